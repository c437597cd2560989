using System.Runtime.InteropServices;

namespace Fathom.Gguf;

/// <summary>
/// An open GGUF file (v2 or v3): header, metadata and tensor infos parsed and validated up front; tensor data
/// memory-mapped read-only and never copied, so opening a file of any size costs only its metadata in RAM.
/// </summary>
public sealed unsafe class GgufFile : IDisposable
{
    private readonly MappedRegion? _region;
    private GCHandle _pin;
    private byte* _base;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;
    private readonly Dictionary<string, GgufFile> _partByTensor = new(StringComparer.Ordinal);
    private List<GgufFile> _parts = [];

    private GgufFile(string filePath, byte* data, long length, MappedRegion? region, GCHandle pin, GgufLayout? layout)
    {
        FilePath = filePath;
        _base = data;
        FileLength = length;
        _region = region;
        _pin = pin;
        var parsed = GgufParser.Parse(data, length, filePath, layout);
        Version = parsed.Version;
        Alignment = parsed.Alignment;
        DataOffset = parsed.DataOffset;
        Metadata = parsed.Metadata;
        Tensors = parsed.Tensors;
        _tensorsByName = parsed.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The path the file was opened from.</summary>
    public string FilePath { get; }

    /// <summary>Size of the file in bytes (for a split model, of the first part; see <see cref="PartPaths"/>).</summary>
    public long FileLength { get; }

    /// <summary>GGUF version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>Absolute offset of the data section (tensor offsets are relative to it; a split part's, to its own).</summary>
    public long DataOffset { get; }

    /// <summary>Alignment of the data section and of each tensor (<c>general.alignment</c>, default 32).</summary>
    public uint Alignment { get; }

    /// <summary>All metadata, in file order.</summary>
    public GgufMetadata Metadata { get; }

    /// <summary>All tensor infos, in file order; for a split model, those of every part, part by part.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; private set; }

    /// <summary>
    /// The paths of the files the model came from: this file alone, or every part of a split model
    /// (<see cref="GgufSplit"/>) in order, the first being <see cref="FilePath"/>.
    /// </summary>
    public IReadOnlyList<string> PartPaths => [FilePath, .. _parts.Select(p => p.FilePath)];

    /// <summary>
    /// Opens and validates <paramref name="path"/>, mapping it read-only. When it is the first part of a split
    /// model (<see cref="GgufSplit"/>), its sibling parts are opened too and their tensors presented as this file's.
    /// </summary>
    /// <exception cref="GgufFormatException">The file (or a part of it) is malformed, missing, inconsistent or uses an unsupported feature.</exception>
    /// <exception cref="IOException">The file cannot be read (e.g. <see cref="FileNotFoundException"/>).</exception>
    public static GgufFile Open(string path) => Open(path, layout: null);

    /// <summary>
    /// Reads only the header and metadata of <paramref name="path"/>, without reading or validating tensor infos;
    /// for tools that need the vocabulary or hyperparameters of a file whose tensors Fathom rejects.
    /// </summary>
    /// <exception cref="GgufFormatException">The header or metadata is malformed.</exception>
    public static GgufMetadata ReadMetadata(string path) => ReadHeader(path).Metadata;

    /// <summary>Version, alignment and metadata of <paramref name="path"/>; tensor infos are not read.</summary>
    internal static GgufParser.Result ReadHeader(string path)
    {
        var region = MappedRegion.Map(path);
        try
        {
            return GgufParser.Parse(region.Pointer, region.Length, path, metadataOnly: true);
        }
        finally
        {
            region.Dispose();
        }
    }

    internal static GgufFile Open(string path, GgufLayout? layout)
    {
        var file = OpenPart(path, layout);
        try
        {
            if (GgufSplit.Read(file.Metadata, path) is { } keys)
            {
                file.AttachParts(GgufSplit.OpenSiblings(file, keys));
            }

            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Opens one file on its own, without looking for split parts.</summary>
    internal static GgufFile OpenPart(string path, GgufLayout? layout = null)
    {
        var region = MappedRegion.Map(path);
        try
        {
            return new GgufFile(path, region.Pointer, region.Length, region, default, layout);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    /// <summary>Parses GGUF bytes held in memory (tests and fuzzing; production opens files through <see cref="Open(string)"/>).</summary>
    internal static GgufFile OpenBytes(byte[] data, string name = "<memory>", GgufLayout? layout = null)
    {
        ArgumentNullException.ThrowIfNull(data);

        // A zero-length array still pins to a valid address; reads are bounded by the length.
        var pin = GCHandle.Alloc(data, GCHandleType.Pinned);
        GgufFile? file = null;
        try
        {
            file = new GgufFile(name, (byte*)pin.AddrOfPinnedObject(), data.Length, null, pin, layout);
            if (GgufSplit.Read(file.Metadata, name) is { } keys)
            {
                throw new GgufFormatException(name, file.Metadata[GgufSplit.CountKey].Offset,
                    $"part {keys.Number + 1} of a {keys.Count}-part split model; its other parts cannot be found from in-memory data");
            }

            return file;
        }
        catch
        {
            if (file is null)
            {
                pin.Free();
            }
            else
            {
                file.Dispose();
            }

            throw;
        }
    }

    /// <summary>The tensor named <paramref name="name"/>, or null.</summary>
    public GgufTensorInfo? FindTensor(string name) => _tensorsByName.GetValueOrDefault(name);

    /// <summary>The tensor named <paramref name="name"/>.</summary>
    /// <exception cref="GgufFormatException">The file has no such tensor.</exception>
    public GgufTensorInfo GetTensor(string name) =>
        FindTensor(name) ?? throw new GgufFormatException(FilePath, -1, $"tensor '{name}' is missing");

    /// <summary>The tensor's bytes, straight from the mapping; valid while the file is open.</summary>
    /// <exception cref="NotSupportedException">The tensor is larger than a span can address (use <see cref="GetTensorPointer"/>).</exception>
    public ReadOnlySpan<byte> GetTensorBytes(GgufTensorInfo tensor)
    {
        var size = CheckOwned(tensor).ByteSize;
        if (size > int.MaxValue)
        {
            throw new NotSupportedException($"Tensor '{tensor.Name}' is {size} bytes, too large for a span; use GetTensorPointer.");
        }

        return new ReadOnlySpan<byte>(GetTensorPointer(tensor), (int)size);
    }

    /// <summary>Pointer to the tensor's first byte in the mapping; valid while the file is open.</summary>
    public byte* GetTensorPointer(GgufTensorInfo tensor)
    {
        CheckOwned(tensor);

        // A split part's offsets are relative to that part's own data section.
        return _partByTensor.TryGetValue(tensor.Name, out var part)
            ? part.GetTensorPointer(tensor)
            : _base + DataOffset + (long)tensor.Offset;
    }

    /// <summary>Unmaps the file; pointers and spans obtained from it become invalid.</summary>
    public void Dispose()
    {
        if (_base is null)
        {
            return;
        }

        _base = null;
        foreach (var part in _parts)
        {
            part.Dispose();
        }

        _region?.Dispose();
        if (_pin.IsAllocated)
        {
            _pin.Free();
        }
    }

    /// <summary>Takes ownership of the other parts of a split model and merges their tensors into this file's.</summary>
    /// <exception cref="GgufFormatException">A tensor name occurs in more than one part.</exception>
    private void AttachParts(List<GgufFile> parts)
    {
        _parts = parts;
        var all = new List<GgufTensorInfo>(Tensors);
        foreach (var part in parts)
        {
            foreach (var tensor in part.Tensors)
            {
                if (!_tensorsByName.TryAdd(tensor.Name, tensor))
                {
                    var first = _partByTensor.TryGetValue(tensor.Name, out var other) ? other.FilePath : FilePath;
                    throw new GgufFormatException(part.FilePath, -1, $"tensor '{tensor.Name}' is duplicated: it is also in '{first}'");
                }

                _partByTensor.Add(tensor.Name, part);
                all.Add(tensor);
            }
        }

        Tensors = all;
    }

    private GgufTensorInfo CheckOwned(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ObjectDisposedException.ThrowIf(_base is null, this);
        if (!_tensorsByName.TryGetValue(tensor.Name, out var own) || !ReferenceEquals(own, tensor))
        {
            throw new ArgumentException($"Tensor '{tensor.Name}' does not belong to {FilePath}.", nameof(tensor));
        }

        return tensor;
    }
}
