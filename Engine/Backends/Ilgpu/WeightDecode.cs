using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// Device-side decoding of one element of a weight row stored in its GGUF layout (bytes as in the file). Each
/// function reproduces the host dequantizer's f32 arithmetic (same products, same order), so a decoded weight
/// equals the host's value bit for bit.
/// </summary>
internal static class WeightDecode
{
    // GgmlType values, as ints so kernels branch on a uniform scalar.
    public const int F32 = 0;
    public const int F16 = 1;
    public const int Q4_0 = 2;
    public const int Q8_0 = 8;
    public const int Q4K = 12;
    public const int Q6K = 14;
    public const int BF16 = 30;

    // The engine's checkpoint layouts (Quantization.CheckpointTypes).
    public const int Fp8Rows = 0x1000;
    public const int Int4ZeroPoint = 0x1001;

    /// <summary>Element <paramref name="i"/> of the row starting at byte <paramref name="row"/>.</summary>
    public static float Element(ArrayView<byte> data, int type, long row, int i)
    {
        switch (type)
        {
            case F32:
                return Interop.IntAsFloat(ReadUInt32(data, row + (4L * i)));
            case F16:
                return HalfToSingle(ReadUInt16(data, row + (2L * i)));
            case BF16:
                return Interop.IntAsFloat(ReadUInt16(data, row + (2L * i)) << 16);
            case Q8_0:
            {
                var block = row + (34L * (i >> 5));
                return (sbyte)data[block + 2 + (i & 31)] * HalfToSingle(ReadUInt16(data, block));
            }

            case Q4_0:
            {
                var block = row + (18L * (i >> 5));
                var j = i & 31;
                var b = data[block + 2 + (j & 15)];
                var q = j < 16 ? b & 0xF : b >> 4;
                return (q - 8) * HalfToSingle(ReadUInt16(data, block));
            }

            case Fp8Rows:
                return Fp8ToSingle(data[row + 4 + i]) * Interop.IntAsFloat(ReadUInt32(data, row));
            case Int4ZeroPoint:
            {
                var block = row + (20L * (i >> 5));
                var j = i & 31;
                var b = data[block + 4 + (j & 15)];
                var q = j < 16 ? b & 0xF : b >> 4;
                return (q - data[block + 2]) * HalfToSingle(ReadUInt16(data, block));
            }

            case Q4K:
                return Q4KElement(data, row + (144L * (i >> 8)), i & 255);
            case Q6K:
                return Q6KElement(data, row + (210L * (i >> 8)), i & 255);
            default:
                return 0f;
        }
    }

    /// <summary>IEEE binary16 bits to f32 (exact, subnormals included).</summary>
    public static float HalfToSingle(uint h)
    {
        var sign = (h & 0x8000u) << 16;
        var exponent = (int)((h >> 10) & 0x1F);
        var mantissa = h & 0x3FFu;
        if (exponent == 0)
        {
            var magnitude = mantissa * 5.9604644775390625E-8f; // 2^-24
            return sign != 0 ? -magnitude : magnitude;
        }

        var bits = exponent == 31
            ? sign | 0x7F800000u | (mantissa << 13)
            : sign | ((uint)(exponent + 112) << 23) | (mantissa << 13);
        return Interop.IntAsFloat(bits);
    }

    /// <summary>
    /// The same conversion for kernels: <c>cvt.f32.f16</c> on CUDA (one instruction, exact like the software path, which
    /// the other accelerators run).
    /// </summary>
    public static float HalfToSingleCvt(uint h)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("{\n\t.reg .b16 lo, hi;\n\tmov.b32 {lo, hi}, %1;\n\tcvt.f32.f16 %0, lo;\n\t}", out float value, h);
            return value;
        }

        return HalfToSingle(h);
    }

    /// <summary>
    /// FP8 e4m3 bits to f32, exact: the magnitude bits moved into f32 position read as v·2^-120 (subnormals too), so
    /// one multiply by 2^120 restores v. The NaN codes are rejected when weights are loaded.
    /// </summary>
    public static float Fp8ToSingle(uint bits) =>
        Interop.IntAsFloat(((bits & 0x7Fu) << 20) | ((bits & 0x80u) << 24)) * 1.329228e36f;

    private static float Q4KElement(ArrayView<byte> data, long block, int r)
    {
        var d = HalfToSingle(ReadUInt16(data, block));
        var dmin = HalfToSingle(ReadUInt16(data, block + 2));
        var chunk = r >> 6;
        var l = r & 63;
        var j = (2 * chunk) + (l >> 5);
        var scales = block + 4;
        int scale, min;
        if (j < 4)
        {
            scale = data[scales + j] & 63;
            min = data[scales + j + 4] & 63;
        }
        else
        {
            scale = (data[scales + j + 4] & 0xF) | ((data[scales + j - 4] >> 6) << 4);
            min = (data[scales + j + 4] >> 4) | ((data[scales + j] >> 6) << 4);
        }

        var b = data[block + 16 + (32 * chunk) + (l & 31)];
        var q = l < 32 ? b & 0xF : b >> 4;
        return (d * scale * q) - (dmin * min);
    }

    private static float Q6KElement(ArrayView<byte> data, long block, int e)
    {
        var half = e >> 7;
        var r = e & 127;
        var quarter = r >> 5;
        var l = r & 31;
        var ql = data[block + (64 * half) + l + ((quarter & 1) == 1 ? 32 : 0)];
        var low = quarter < 2 ? ql & 0xF : ql >> 4;
        var high = (data[block + 128 + (32 * half) + l] >> (2 * quarter)) & 3;
        var level = low | (high << 4);
        var d = HalfToSingle(ReadUInt16(data, block + 208));
        return d * (sbyte)data[block + 192 + (e >> 4)] * (level - 32);
    }

    private static uint ReadUInt16(ArrayView<byte> data, long offset) => data[offset] | ((uint)data[offset + 1] << 8);

    private static uint ReadUInt32(ArrayView<byte> data, long offset) =>
        data[offset] | ((uint)data[offset + 1] << 8) | ((uint)data[offset + 2] << 16) | ((uint)data[offset + 3] << 24);
}
