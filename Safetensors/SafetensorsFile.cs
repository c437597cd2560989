using System.Runtime.InteropServices;

namespace Fathom.Safetensors;

/// <summary>
/// One open <c>.safetensors</c> file: its header parsed and validated up front, tensor data memory-mapped read-only
/// and never copied.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private readonly MappedFile? _region;
    private GCHandle _pin;
    private byte* _base;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;

    private SafetensorsFile(string path, byte* data, long length, MappedFile? region, GCHandle pin)
    {
        FilePath = path;
        FileLength = length;
        _base = data;
        _region = region;
        _pin = pin;
        var prefixLength = (int)Math.Min(length, 8 + SafetensorsHeader.MaxHeaderBytes);
        var result = SafetensorsHeader.Parse(new ReadOnlySpan<byte>(data, prefixLength), length, path);
        Tensors = result.Tensors;
        Metadata = result.Metadata;
        DataOffset = result.DataOffset;
        _byName = result.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The path the file was opened from.</summary>
    public string FilePath { get; }

    /// <summary>Size of the file in bytes.</summary>
    public long FileLength { get; }

    /// <summary>Absolute offset of the data section (8 + header length).</summary>
    public long DataOffset { get; }

    /// <summary>Tensor entries in header order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> strings (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens and validates <paramref name="path"/>, mapping it read-only.</summary>
    /// <exception cref="SafetensorsFormatException">The file is malformed.</exception>
    /// <exception cref="IOException">The file cannot be read (e.g. <see cref="FileNotFoundException"/>).</exception>
    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var region = MappedFile.Map(path);
        try
        {
            return new SafetensorsFile(path, region.Pointer, region.Length, region, default);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    /// <summary>Parses safetensors bytes held in memory (tests and fuzzing).</summary>
    /// <exception cref="SafetensorsFormatException">The data is malformed.</exception>
    internal static SafetensorsFile OpenBytes(byte[] data, string name = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(data);
        var pin = GCHandle.Alloc(data, GCHandleType.Pinned);
        try
        {
            return new SafetensorsFile(name, (byte*)pin.AddrOfPinnedObject(), data.Length, null, pin);
        }
        catch
        {
            pin.Free();
            throw;
        }
    }

    /// <summary>The tensor named <paramref name="name"/>, or null.</summary>
    public SafetensorsTensorInfo? FindTensor(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Pointer to the tensor's first byte in the mapping (not necessarily aligned); valid while the file is open.</summary>
    public byte* GetTensorPointer(SafetensorsTensorInfo tensor) => _base + DataOffset + CheckOwned(tensor).Begin;

    /// <summary>The tensor's bytes, straight from the mapping; valid while the file is open.</summary>
    /// <exception cref="NotSupportedException">The tensor is larger than a span can address (use <see cref="GetTensorPointer"/>).</exception>
    public ReadOnlySpan<byte> GetTensorBytes(SafetensorsTensorInfo tensor)
    {
        var size = CheckOwned(tensor).ByteSize;
        return size > int.MaxValue
            ? throw new NotSupportedException($"Tensor '{tensor.Name}' is {size} bytes, too large for a span; use GetTensorPointer.")
            : new ReadOnlySpan<byte>(GetTensorPointer(tensor), (int)size);
    }

    /// <summary>Unmaps the file; pointers and spans obtained from it become invalid.</summary>
    public void Dispose()
    {
        if (_base is null)
        {
            return;
        }

        _base = null;
        _region?.Dispose();
        if (_pin.IsAllocated)
        {
            _pin.Free();
        }
    }

    private SafetensorsTensorInfo CheckOwned(SafetensorsTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ObjectDisposedException.ThrowIf(_base is null, this);
        return _byName.TryGetValue(tensor.Name, out var own) && ReferenceEquals(own, tensor)
            ? tensor
            : throw new ArgumentException($"Tensor '{tensor.Name}' does not belong to {FilePath}.", nameof(tensor));
    }
}
