using System.Globalization;

namespace Fathom.Gguf;

/// <summary>
/// One GGUF metadata value: a scalar, a string, or a typed array (whose elements may themselves be arrays).
/// Immutable; the typed accessors throw <see cref="InvalidCastException"/> when the stored type does not fit.
/// </summary>
public sealed class GgufValue : IEquatable<GgufValue>
{
    private readonly Int128 _integer;
    private readonly double _float;
    private readonly string? _string;

    // Arrays keep their elements in the natural .NET array of the element type (byte[], float[], string[], ...,
    // GgufValue[] for arrays of arrays) so a 128k-entry vocabulary costs one allocation, not 128k boxes.
    private readonly Array? _array;

    private GgufValue(GgufValueType type, Int128 integer = default, double floating = 0, string? text = null,
        GgufValueType? elementType = null, Array? array = null)
    {
        Type = type;
        _integer = integer;
        _float = floating;
        _string = text;
        ElementType = elementType;
        _array = array;
    }

    /// <summary>The stored type.</summary>
    public GgufValueType Type { get; }

    /// <summary>For arrays, the type of every element; null otherwise.</summary>
    public GgufValueType? ElementType { get; }

    /// <summary>Number of elements of an array value; 0 for scalars.</summary>
    public int Count => _array?.Length ?? 0;

    /// <summary>Byte offset of the value in the file it was read from, or -1.</summary>
    internal long Offset { get; set; } = -1;

    internal Array? RawArray => _array;

    internal Int128 RawInteger => _integer;

    internal double RawFloat => _float;

    internal bool IsInteger => IsIntegerType(Type);

    /// <summary>Creates a UInt8 value.</summary>
    public static GgufValue FromUInt8(byte value) => new(GgufValueType.UInt8, integer: value);

    /// <summary>Creates an Int8 value.</summary>
    public static GgufValue FromInt8(sbyte value) => new(GgufValueType.Int8, integer: value);

    /// <summary>Creates a UInt16 value.</summary>
    public static GgufValue FromUInt16(ushort value) => new(GgufValueType.UInt16, integer: value);

    /// <summary>Creates an Int16 value.</summary>
    public static GgufValue FromInt16(short value) => new(GgufValueType.Int16, integer: value);

    /// <summary>Creates a UInt32 value.</summary>
    public static GgufValue FromUInt32(uint value) => new(GgufValueType.UInt32, integer: value);

    /// <summary>Creates an Int32 value.</summary>
    public static GgufValue FromInt32(int value) => new(GgufValueType.Int32, integer: value);

    /// <summary>Creates a UInt64 value.</summary>
    public static GgufValue FromUInt64(ulong value) => new(GgufValueType.UInt64, integer: value);

    /// <summary>Creates an Int64 value.</summary>
    public static GgufValue FromInt64(long value) => new(GgufValueType.Int64, integer: value);

    /// <summary>Creates a Float32 value.</summary>
    public static GgufValue FromFloat32(float value) => new(GgufValueType.Float32, floating: value);

    /// <summary>Creates a Float64 value.</summary>
    public static GgufValue FromFloat64(double value) => new(GgufValueType.Float64, floating: value);

    /// <summary>Creates a Bool value.</summary>
    public static GgufValue FromBool(bool value) => new(GgufValueType.Bool, integer: value ? 1 : 0);

    /// <summary>Creates a String value.</summary>
    public static GgufValue FromString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(GgufValueType.String, text: value);
    }

    /// <summary>Creates an array of strings (copied).</summary>
    public static GgufValue FromStringArray(IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var copy = values.ToArray();
        if (System.Array.IndexOf(copy, null) >= 0)
        {
            throw new ArgumentException("A GGUF string array cannot hold null.", nameof(values));
        }

        return CreateArray(GgufValueType.String, copy);
    }

    /// <summary>Creates an array of Float32 (copied).</summary>
    public static GgufValue FromFloat32Array(ReadOnlySpan<float> values) => CreateArray(GgufValueType.Float32, values.ToArray());

    /// <summary>Creates an array of Int32 (copied).</summary>
    public static GgufValue FromInt32Array(ReadOnlySpan<int> values) => CreateArray(GgufValueType.Int32, values.ToArray());

    /// <summary>Creates an array of UInt32 (copied).</summary>
    public static GgufValue FromUInt32Array(ReadOnlySpan<uint> values) => CreateArray(GgufValueType.UInt32, values.ToArray());

    /// <summary>
    /// Creates an array whose elements all have type <paramref name="elementType"/>; the general form, for every
    /// element type including arrays of arrays.
    /// </summary>
    /// <exception cref="ArgumentException">An element's type differs from <paramref name="elementType"/>.</exception>
    public static GgufValue FromArray(GgufValueType elementType, IReadOnlyList<GgufValue> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (!Enum.IsDefined(elementType))
        {
            throw new ArgumentOutOfRangeException(nameof(elementType), elementType, "Unknown GGUF value type.");
        }

        for (var i = 0; i < items.Count; i++)
        {
            if (items[i] is null || items[i].Type != elementType)
            {
                throw new ArgumentException($"Element {i} is {items[i]?.Type.ToString() ?? "null"}, not {elementType}.", nameof(items));
            }
        }

        Array storage = elementType switch
        {
            GgufValueType.UInt8 => items.Select(v => (byte)v._integer).ToArray(),
            GgufValueType.Int8 => items.Select(v => (sbyte)v._integer).ToArray(),
            GgufValueType.UInt16 => items.Select(v => (ushort)v._integer).ToArray(),
            GgufValueType.Int16 => items.Select(v => (short)v._integer).ToArray(),
            GgufValueType.UInt32 => items.Select(v => (uint)v._integer).ToArray(),
            GgufValueType.Int32 => items.Select(v => (int)v._integer).ToArray(),
            GgufValueType.UInt64 => items.Select(v => (ulong)v._integer).ToArray(),
            GgufValueType.Int64 => items.Select(v => (long)v._integer).ToArray(),
            GgufValueType.Float32 => items.Select(v => (float)v._float).ToArray(),
            GgufValueType.Float64 => items.Select(v => v._float).ToArray(),
            GgufValueType.Bool => items.Select(v => v._integer != 0).ToArray(),
            GgufValueType.String => items.Select(v => v._string!).ToArray(),
            _ => items.ToArray(),
        };
        return CreateArray(elementType, storage);
    }

    internal static GgufValue CreateArray(GgufValueType elementType, Array storage) =>
        new(GgufValueType.Array, elementType: elementType, array: storage);

    internal static GgufValue Integer(GgufValueType type, Int128 value) => new(type, integer: value);

    internal static GgufValue Floating(GgufValueType type, double value) => new(type, floating: value);

    /// <summary>The string value.</summary>
    public string AsString() => Type == GgufValueType.String ? _string! : throw Mismatch("a string");

    /// <summary>The value as UInt32; any integer type is accepted when the value fits.</summary>
    public uint AsUInt32() => (uint)IntegerIn(uint.MinValue, uint.MaxValue, "a UInt32");

    /// <summary>The value as Int32; any integer type is accepted when the value fits.</summary>
    public int AsInt32() => (int)IntegerIn(int.MinValue, int.MaxValue, "an Int32");

    /// <summary>The value as UInt64; any integer type is accepted when the value fits.</summary>
    public ulong AsUInt64() => (ulong)IntegerIn(ulong.MinValue, ulong.MaxValue, "a UInt64");

    /// <summary>The value as Int64; any integer type is accepted when the value fits.</summary>
    public long AsInt64() => (long)IntegerIn(long.MinValue, long.MaxValue, "an Int64");

    /// <summary>The value as Float32; Float32 and Float64 are accepted.</summary>
    public float AsFloat32() => Type is GgufValueType.Float32 or GgufValueType.Float64 ? (float)_float : throw Mismatch("a Float32");

    /// <summary>The value as Float64; Float32 and Float64 are accepted.</summary>
    public double AsFloat64() => Type is GgufValueType.Float32 or GgufValueType.Float64 ? _float : throw Mismatch("a Float64");

    /// <summary>The Bool value.</summary>
    public bool AsBool() => Type == GgufValueType.Bool ? _integer != 0 : throw Mismatch("a Bool");

    /// <summary>The elements of an array value, each as a <see cref="GgufValue"/>.</summary>
    public IReadOnlyList<GgufValue> AsArray() => _array is null ? throw Mismatch("an array") : new ElementList(this);

    /// <summary>A copy of an array of strings.</summary>
    public string[] AsStringArray() => _array is string[] s ? (string[])s.Clone() : throw Mismatch("an array of strings");

    /// <summary>A copy of an array of Float32 (Float64 elements are narrowed).</summary>
    public float[] AsFloat32Array() => _array switch
    {
        float[] f => (float[])f.Clone(),
        double[] d => System.Array.ConvertAll(d, x => (float)x),
        _ => throw Mismatch("an array of Float32"),
    };

    /// <summary>An array of any integer element type as Int32, when every element fits.</summary>
    public int[] AsInt32Array()
    {
        if (ElementType == GgufValueType.Int32 && _array is int[] ints)
        {
            return (int[])ints.Clone();
        }

        if (_array is null || ElementType is not { } et || !IsIntegerType(et))
        {
            throw Mismatch("an array of integers");
        }

        var result = new int[_array.Length];
        for (var i = 0; i < result.Length; i++)
        {
            var v = ElementInteger(i);
            if (v < int.MinValue || v > int.MaxValue)
            {
                throw new InvalidCastException($"Element {i} ({v}) of the {et} array does not fit in an Int32.");
            }

            result[i] = (int)v;
        }

        return result;
    }

    /// <inheritdoc/>
    public bool Equals(GgufValue? other)
    {
        if (other is null || other.Type != Type || other.ElementType != ElementType)
        {
            return false;
        }

        if (Type != GgufValueType.Array)
        {
            return _integer == other._integer && _string == other._string
                && BitConverter.DoubleToInt64Bits(_float) == BitConverter.DoubleToInt64Bits(other._float);
        }

        if (_array!.Length != other._array!.Length)
        {
            return false;
        }

        var a = AsArray();
        var b = other.AsArray();
        for (var i = 0; i < a.Count; i++)
        {
            if (!a[i].Equals(b[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is GgufValue v && Equals(v);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Type, ElementType, _integer, _float, _string, _array?.Length);

    /// <summary>The value as text; arrays longer than <paramref name="maxItems"/> are summarised as <c>[n items: a, b, …]</c>.</summary>
    public string ToDisplayString(int maxItems = 8)
    {
        if (_array is null)
        {
            return Type switch
            {
                GgufValueType.String => Quote(_string!),
                GgufValueType.Bool => _integer != 0 ? "true" : "false",
                GgufValueType.Float32 => ((float)_float).ToString("R", CultureInfo.InvariantCulture),
                GgufValueType.Float64 => _float.ToString("R", CultureInfo.InvariantCulture),
                _ => _integer.ToString(CultureInfo.InvariantCulture),
            };
        }

        var items = AsArray();
        var shown = string.Join(", ", items.Take(maxItems).Select(v => v.ToDisplayString(maxItems)));
        return items.Count <= maxItems ? $"[{shown}]" : $"[{items.Count} items: {shown}, …]";
    }

    /// <inheritdoc/>
    public override string ToString() => ToDisplayString();

    internal GgufValue ElementAt(int index) => ElementType switch
    {
        GgufValueType.Array => ((GgufValue[])_array!)[index],
        GgufValueType.String => FromString(((string[])_array!)[index]),
        GgufValueType.Float32 => Floating(GgufValueType.Float32, ((float[])_array!)[index]),
        GgufValueType.Float64 => Floating(GgufValueType.Float64, ((double[])_array!)[index]),
        GgufValueType.Bool => FromBool(((bool[])_array!)[index]),
        _ => Integer(ElementType!.Value, ElementInteger(index)),
    };

    // Switch on the element type, not the array's runtime type: the CLR lets an sbyte[] pass as byte[] (and int[] as uint[]).
    private Int128 ElementInteger(int index) => ElementType switch
    {
        GgufValueType.UInt8 => ((byte[])_array!)[index],
        GgufValueType.Int8 => ((sbyte[])_array!)[index],
        GgufValueType.UInt16 => ((ushort[])_array!)[index],
        GgufValueType.Int16 => ((short[])_array!)[index],
        GgufValueType.UInt32 => ((uint[])_array!)[index],
        GgufValueType.Int32 => ((int[])_array!)[index],
        GgufValueType.UInt64 => ((ulong[])_array!)[index],
        GgufValueType.Int64 => ((long[])_array!)[index],
        _ => throw Mismatch("an array of integers"),
    };

    private Int128 IntegerIn(Int128 min, Int128 max, string wanted)
    {
        if (!IsIntegerType(Type))
        {
            throw Mismatch(wanted);
        }

        return _integer >= min && _integer <= max
            ? _integer
            : throw new InvalidCastException($"The {Type} value {_integer} does not fit in {wanted}.");
    }

    private static bool IsIntegerType(GgufValueType t) => t is GgufValueType.UInt8 or GgufValueType.Int8
        or GgufValueType.UInt16 or GgufValueType.Int16 or GgufValueType.UInt32 or GgufValueType.Int32
        or GgufValueType.UInt64 or GgufValueType.Int64;

    private InvalidCastException Mismatch(string wanted)
    {
        var actual = Type == GgufValueType.Array ? $"an array of {ElementType}" : Type.ToString();
        return new InvalidCastException($"The value is {actual}, not {wanted}.");
    }

    private static string Quote(string s)
    {
        const int MaxShown = 80;
        var shown = s.Length > MaxShown ? string.Concat(s.AsSpan(0, MaxShown), "…") : s;
        return "\"" + shown.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal)
            .Replace("\t", "\\t", StringComparison.Ordinal) + "\"";
    }

    private sealed class ElementList(GgufValue owner) : IReadOnlyList<GgufValue>
    {
        public int Count => owner._array!.Length;

        public GgufValue this[int index] => (uint)index < (uint)Count
            ? owner.ElementAt(index)
            : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<GgufValue> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return owner.ElementAt(i);
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
