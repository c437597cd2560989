using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;

namespace Fathom.Gguf;

/// <summary>
/// Builds GGUF v3 files: metadata of every value type and tensors given as bytes or streamed by a callback, so
/// tests and benchmarks can make models of any shape (even gigabytes) without holding the data in memory.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);
    private uint _alignment = GgufParser.DefaultAlignment;
    private bool _alignmentExplicit;

    private sealed record PendingTensor(string Name, GgmlType Type, long[] Dimensions, long ByteSize, Action<Stream> Write);

    /// <summary>
    /// Data alignment (a power of two, default 32). A value other than 32, or one set via a
    /// <c>general.alignment</c> metadata entry, is written as <c>general.alignment</c>.
    /// </summary>
    public uint Alignment
    {
        get => _alignment;
        set
        {
            if (value == 0 || !BitOperations.IsPow2(value))
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "Alignment must be a power of two.");
            }

            _alignment = value;
        }
    }

    /// <summary>Adds a metadata entry of any type (including arrays of arrays built with <see cref="GgufValue.FromArray"/>).</summary>
    public GgufWriter AddMetadata(string key, GgufValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        if (key == GgufParser.AlignmentKey)
        {
            Alignment = value.Type == GgufValueType.UInt32
                ? value.AsUInt32()
                : throw new ArgumentException($"'{key}' must be a UInt32.", nameof(value));
            _alignmentExplicit = true;
            return this;
        }

        if (!_keys.Add(key))
        {
            throw new ArgumentException($"Metadata key '{key}' was already added.", nameof(key));
        }

        _metadata.Add(new(key, value));
        return this;
    }

    /// <summary>Adds a String entry.</summary>
    public GgufWriter AddMetadata(string key, string value) => AddMetadata(key, GgufValue.FromString(value));

    /// <summary>Adds a Bool entry.</summary>
    public GgufWriter AddMetadata(string key, bool value) => AddMetadata(key, GgufValue.FromBool(value));

    /// <summary>Adds a UInt8 entry.</summary>
    public GgufWriter AddMetadata(string key, byte value) => AddMetadata(key, GgufValue.FromUInt8(value));

    /// <summary>Adds an Int8 entry.</summary>
    public GgufWriter AddMetadata(string key, sbyte value) => AddMetadata(key, GgufValue.FromInt8(value));

    /// <summary>Adds a UInt16 entry.</summary>
    public GgufWriter AddMetadata(string key, ushort value) => AddMetadata(key, GgufValue.FromUInt16(value));

    /// <summary>Adds an Int16 entry.</summary>
    public GgufWriter AddMetadata(string key, short value) => AddMetadata(key, GgufValue.FromInt16(value));

    /// <summary>Adds a UInt32 entry.</summary>
    public GgufWriter AddMetadata(string key, uint value) => AddMetadata(key, GgufValue.FromUInt32(value));

    /// <summary>Adds an Int32 entry.</summary>
    public GgufWriter AddMetadata(string key, int value) => AddMetadata(key, GgufValue.FromInt32(value));

    /// <summary>Adds a UInt64 entry.</summary>
    public GgufWriter AddMetadata(string key, ulong value) => AddMetadata(key, GgufValue.FromUInt64(value));

    /// <summary>Adds an Int64 entry.</summary>
    public GgufWriter AddMetadata(string key, long value) => AddMetadata(key, GgufValue.FromInt64(value));

    /// <summary>Adds a Float32 entry.</summary>
    public GgufWriter AddMetadata(string key, float value) => AddMetadata(key, GgufValue.FromFloat32(value));

    /// <summary>Adds a Float64 entry.</summary>
    public GgufWriter AddMetadata(string key, double value) => AddMetadata(key, GgufValue.FromFloat64(value));

    /// <summary>Adds an array of strings.</summary>
    public GgufWriter AddMetadata(string key, string[] values) => AddMetadata(key, GgufValue.FromStringArray(values));

    /// <summary>Adds an array of Float32.</summary>
    public GgufWriter AddMetadata(string key, float[] values) => AddMetadata(key, GgufValue.FromFloat32Array(values));

    /// <summary>Adds an array of Int32.</summary>
    public GgufWriter AddMetadata(string key, int[] values) => AddMetadata(key, GgufValue.FromInt32Array(values));

    /// <summary>Adds an array of UInt32.</summary>
    public GgufWriter AddMetadata(string key, uint[] values) => AddMetadata(key, GgufValue.FromUInt32Array(values));

    /// <summary>Adds an array whose elements are arrays (all of the same element type or mixed, each a GGUF array).</summary>
    public GgufWriter AddMetadata(string key, GgufValue[] arrays) => AddMetadata(key, GgufValue.FromArray(GgufValueType.Array, arrays));

    /// <summary>Adds a tensor whose bytes are given (copied now).</summary>
    /// <param name="name">Unique tensor name.</param>
    /// <param name="type">Element type.</param>
    /// <param name="dims">Dimensions, innermost (<c>ne0</c>) first; 1 to 4 of them, each positive.</param>
    /// <param name="data">Exactly the tensor's byte size.</param>
    public GgufWriter AddTensor(string name, GgmlType type, long[] dims, ReadOnlySpan<byte> data)
    {
        var size = CheckTensor(name, type, dims);
        if (data.Length != size)
        {
            throw new ArgumentException($"Tensor '{name}' needs {size} bytes, got {data.Length}.", nameof(data));
        }

        var copy = data.ToArray();
        return Add(new PendingTensor(name, type, (long[])dims.Clone(), size, s => s.Write(copy)));
    }

    /// <summary>
    /// Adds a tensor whose bytes <paramref name="writeData"/> streams at write time; it must write exactly the
    /// tensor's byte size. This is how multi-gigabyte files are made without the data in memory.
    /// </summary>
    public GgufWriter AddTensor(string name, GgmlType type, long[] dims, Action<Stream> writeData)
    {
        ArgumentNullException.ThrowIfNull(writeData);
        var size = CheckTensor(name, type, dims);
        return Add(new PendingTensor(name, type, (long[])dims.Clone(), size, writeData));
    }

    /// <summary>Writes the file to <paramref name="path"/> (replacing it).</summary>
    public void WriteTo(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        WriteTo(stream);
    }

    /// <summary>Writes the file to <paramref name="stream"/> (need not be seekable).</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var header = BuildHeader();
        stream.Write(header);
        using var counter = new CountingStream(stream);
        for (var i = 0; i < _tensors.Count; i++)
        {
            var t = _tensors[i];
            counter.Begin(t.ByteSize);
            t.Write(counter);
            if (counter.Written != t.ByteSize)
            {
                throw new InvalidOperationException($"Tensor '{t.Name}' wrote {counter.Written} bytes, expected {t.ByteSize}.");
            }

            WritePadding(stream, t.ByteSize);
        }

        stream.Flush();
    }

    private byte[] BuildHeader()
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            var metadata = new List<KeyValuePair<string, GgufValue>>(_metadata);
            if (_alignmentExplicit || _alignment != GgufParser.DefaultAlignment)
            {
                metadata.Add(new(GgufParser.AlignmentKey, GgufValue.FromUInt32(_alignment)));
            }

            w.Write(GgufParser.Magic);
            w.Write(3u);
            w.Write((ulong)_tensors.Count);
            w.Write((ulong)metadata.Count);
            foreach (var (key, value) in metadata)
            {
                WriteString(w, key);
                w.Write((uint)value.Type);
                WriteValue(w, value);
            }

            long offset = 0;
            for (var i = 0; i < _tensors.Count; i++)
            {
                var t = _tensors[i];
                WriteString(w, t.Name);
                w.Write((uint)t.Dimensions.Length);
                foreach (var d in t.Dimensions)
                {
                    w.Write((ulong)d);
                }

                w.Write((uint)t.Type);
                w.Write((ulong)offset);
                offset += AlignUp(t.ByteSize);
            }
        }

        WritePadding(buffer, buffer.Length);
        return buffer.ToArray();
    }

    private static void WriteValue(BinaryWriter w, GgufValue value)
    {
        switch (value.Type)
        {
            case GgufValueType.String: WriteString(w, value.AsString()); break;
            case GgufValueType.Float32: w.Write((float)value.RawFloat); break;
            case GgufValueType.Float64: w.Write(value.RawFloat); break;
            case GgufValueType.Bool: w.Write((byte)(value.AsBool() ? 1 : 0)); break;
            case GgufValueType.UInt8: w.Write((byte)value.RawInteger); break;
            case GgufValueType.Int8: w.Write((sbyte)value.RawInteger); break;
            case GgufValueType.UInt16: w.Write((ushort)value.RawInteger); break;
            case GgufValueType.Int16: w.Write((short)value.RawInteger); break;
            case GgufValueType.UInt32: w.Write((uint)value.RawInteger); break;
            case GgufValueType.Int32: w.Write((int)value.RawInteger); break;
            case GgufValueType.UInt64: w.Write((ulong)value.RawInteger); break;
            case GgufValueType.Int64: w.Write((long)value.RawInteger); break;
            case GgufValueType.Array: WriteArray(w, value); break;
            default: throw new InvalidOperationException($"Unknown value type {value.Type}.");
        }
    }

    private static void WriteArray(BinaryWriter w, GgufValue value)
    {
        w.Write((uint)value.ElementType!.Value);
        w.Write((ulong)value.Count);
        switch (value.RawArray)
        {
            case string[] strings:
                foreach (var s in strings)
                {
                    WriteString(w, s);
                }

                break;
            case GgufValue[] nested:
                foreach (var n in nested)
                {
                    WriteArray(w, n);
                }

                break;
            case bool[] bools:
                foreach (var b in bools)
                {
                    w.Write((byte)(b ? 1 : 0));
                }

                break;
            case byte[] a: w.Write(a); break;
            case sbyte[] a: w.Write(MemoryMarshal.AsBytes(a.AsSpan())); break;
            case ushort[] a: w.Write(MemoryMarshal.AsBytes(a.AsSpan())); break;
            case short[] a: w.Write(MemoryMarshal.AsBytes(a.AsSpan())); break;
            case uint[] a: w.Write(MemoryMarshal.AsBytes(a.AsSpan())); break;
            case int[] a: w.Write(MemoryMarshal.AsBytes(a.AsSpan())); break;
            case ulong[] a: w.Write(MemoryMarshal.AsBytes(a.AsSpan())); break;
            case long[] a: w.Write(MemoryMarshal.AsBytes(a.AsSpan())); break;
            case float[] a: w.Write(MemoryMarshal.AsBytes(a.AsSpan())); break;
            case double[] a: w.Write(MemoryMarshal.AsBytes(a.AsSpan())); break;
            default: throw new InvalidOperationException("Unknown array storage.");
        }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private void WritePadding(Stream stream, long position)
    {
        var pad = AlignUp(position) - position;
        if (pad > 0)
        {
            stream.Write(new byte[pad]);
        }
    }

    private long AlignUp(long n) => (n + _alignment - 1) / _alignment * _alignment;

    private GgufWriter Add(PendingTensor tensor)
    {
        _tensorNames.Add(tensor.Name);
        _tensors.Add(tensor);
        return this;
    }

    private long CheckTensor(string name, GgmlType type, long[] dims)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(dims);
        if (_tensorNames.Contains(name))
        {
            throw new ArgumentException($"Tensor '{name}' was already added.", nameof(name));
        }

        if (!GgmlTypeTraits.IsKnown(type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown ggml type.");
        }

        if (dims.Length is 0 or > GgufParser.MaxDimensions || dims.Any(d => d <= 0))
        {
            throw new ArgumentException($"Tensor '{name}' needs 1 to {GgufParser.MaxDimensions} positive dimensions.", nameof(dims));
        }

        long elements = 1;
        foreach (var d in dims)
        {
            elements = checked(elements * d);
        }

        return checked(elements / dims[0] * GgmlTypeTraits.RowBytes(type, dims[0]));
    }

    // Passes writes through, refusing more than the tensor's size, and is never allowed to close the target.
    private sealed class CountingStream(Stream inner) : Stream
    {
        private long _limit;

        public long Written { get; private set; }

        public void Begin(long limit)
        {
            _limit = limit;
            Written = 0;
        }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => Written;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Written + buffer.Length > _limit)
            {
                throw new InvalidOperationException($"Tensor data exceeds its {_limit} bytes.");
            }

            inner.Write(buffer);
            Written += buffer.Length;
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
