namespace Fathom.Safetensors;

/// <summary>
/// The element types the safetensors format names in a tensor's <c>dtype</c> field. Fathom computes with the float
/// ones (F32, F16, BF16); the others are exposed raw for quantized checkpoints (FP8 weights, packed int32 nibbles...).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1707:Identifiers should not contain underscores", Justification = "The format's own dtype names.")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1720:Identifier contains type name", Justification = "The format's own dtype names.")]
public enum SafetensorsDType
{
    /// <summary>Boolean, one byte.</summary>
    BOOL,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>8-bit float, 4 exponent and 3 mantissa bits (FP8 e4m3fn).</summary>
    F8_E4M3,
    /// <summary>8-bit float, 5 exponent and 2 mantissa bits (FP8 e5m2).</summary>
    F8_E5M2,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Unsigned 16-bit integer.</summary>
    U16,
    /// <summary>IEEE half float.</summary>
    F16,
    /// <summary>bfloat16 (the upper half of an f32).</summary>
    BF16,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Unsigned 32-bit integer.</summary>
    U32,
    /// <summary>IEEE single float.</summary>
    F32,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Unsigned 64-bit integer.</summary>
    U64,
    /// <summary>IEEE double float.</summary>
    F64,
}

/// <summary>Names and sizes of <see cref="SafetensorsDType"/> values.</summary>
public static class SafetensorsDTypes
{
    /// <summary>Bytes of one element.</summary>
    public static int ElementBytes(SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.BOOL or SafetensorsDType.U8 or SafetensorsDType.I8 or SafetensorsDType.F8_E4M3 or SafetensorsDType.F8_E5M2 => 1,
        SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 4,
        SafetensorsDType.I64 or SafetensorsDType.U64 or SafetensorsDType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>The dtype spelled <paramref name="name"/> in a header (exact, upper case), or null.</summary>
    public static SafetensorsDType? Parse(string name) =>
        name is not null && name.Length > 0 && char.IsUpper(name[0]) && Enum.TryParse<SafetensorsDType>(name, ignoreCase: false, out var dtype)
            && Enum.IsDefined(dtype)
            ? dtype
            : null;

    /// <summary>The header spelling of <paramref name="dtype"/>.</summary>
    public static string Name(SafetensorsDType dtype) => dtype.ToString();

    /// <summary>Whether Fathom computes with this type directly (F32, F16, BF16).</summary>
    public static bool IsFloat(SafetensorsDType dtype) => dtype is SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16;
}
