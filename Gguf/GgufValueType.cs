namespace Fathom.Gguf;

/// <summary>The type tag of a GGUF metadata value, as stored in the file.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "The GGUF specification names its value types this way.")]
public enum GgufValueType : uint
{
    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 0,
    /// <summary>Signed 8-bit integer.</summary>
    Int8,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16,
    /// <summary>Signed 16-bit integer.</summary>
    Int16,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32,
    /// <summary>Signed 32-bit integer.</summary>
    Int32,
    /// <summary>32-bit IEEE float.</summary>
    Float32,
    /// <summary>Boolean stored in one byte.</summary>
    Bool,
    /// <summary>UTF-8 string with a 64-bit length prefix.</summary>
    String,
    /// <summary>Typed array with a 64-bit count; its elements may be arrays.</summary>
    Array,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64,
    /// <summary>Signed 64-bit integer.</summary>
    Int64,
    /// <summary>64-bit IEEE float.</summary>
    Float64,
}
