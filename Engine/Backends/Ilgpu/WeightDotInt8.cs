using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime.Cuda;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// The warp-per-row dots of Q8_0, Q4_0 and Q4_K weight rows with the input already quantized to int8 (blocks of 32
/// with one f32 scale each, <see cref="QuantizeBlock"/>), as llama.cpp's MMVQ kernels do: a lane reads its input
/// quants as whole 32-bit words (4 quants per load, neighbouring lanes neighbouring words, instead of one f32 per
/// weight), and multiplies 4 weight bytes by 4 input bytes with one <c>dp4a.s32.s32</c>. The unit-to-lane mapping is
/// <see cref="WeightDot"/>'s. Off CUDA, <see cref="Dp4a"/> is its C# emulation.
/// </summary>
internal static class WeightDotInt8
{
    /// <summary>Weight types with an int8-input path.</summary>
    public static bool Supports(int type) => type is WeightDecode.Q8_0 or WeightDecode.Q4_0 or WeightDecode.Q4K;

    /// <summary>
    /// This lane's partial dots of the weight row at byte <paramref name="rowByte"/> with the <paramref name="take"/>
    /// quantized input rows from <paramref name="r0"/>. // quants (rows, k / 4) words; scales (rows, k / 32)
    /// </summary>
    public static Acc4 Lane(ArrayView<uint> words, int type, long rowByte, ArrayView<uint> quants, ArrayView<float> scales, int r0, int k, int take, int lane, int warp)
    {
        var acc = default(Acc4);
        var units = k / WeightDot.ElementsPerUnit(type);
        for (var u = lane; u < units; u += warp)
        {
            for (var r = 0; r < take; r++)
            {
                var xWord = (long)(r0 + r) * (k >> 2);
                var xScale = (long)(r0 + r) * (k >> 5);
                var dot = type == WeightDecode.Q8_0 ? Q8_0(words, rowByte + (34L * (u >> 2)), u & 3, quants, scales, xWord, xScale, (u >> 2) * 32)
                    : type == WeightDecode.Q4_0 ? Q4_0(words, rowByte + (18L * (u >> 2)), u & 3, quants, scales, xWord, xScale, (u >> 2) * 32)
                    : Q4K(words, rowByte + (144L * (u >> 3)), u & 7, quants, scales, xWord, xScale, (u >> 3) * 256);
                acc = acc.AddRow(r, dot);
            }
        }

        return acc;
    }

    /// <summary>Q8_0 unit p (quants 8p .. 8p + 7): two dp4a over two weight words and two contiguous input words.</summary>
    private static float Q8_0(ArrayView<uint> words, long block, int p, ArrayView<uint> quants, ArrayView<float> scales, long xWord, long xScale, int e0)
    {
        var d = WeightDecode.HalfToSingleCvt(WeightDot.Half16(words, block));
        var e = e0 + (8 * p);
        var sum = Dp4a(WeightDot.Bytes4(words, block + 2 + (8 * p)), quants[xWord + (e >> 2)], 0);
        sum = Dp4a(WeightDot.Bytes4(words, block + 6 + (8 * p)), quants[xWord + (e >> 2) + 1], sum);
        return d * scales[xScale + (e0 >> 5)] * sum;
    }

    /// <summary>
    /// Q4_0 unit p (bytes 4p .. 4p + 3: quants 4p.. low, 16 + 4p.. high): the nibbles become signed bytes n − 8 by a
    /// per-byte add and xor (no carries cross bytes), then two dp4a.
    /// </summary>
    private static float Q4_0(ArrayView<uint> words, long block, int p, ArrayView<uint> quants, ArrayView<float> scales, long xWord, long xScale, int e0)
    {
        var d = WeightDecode.HalfToSingleCvt(WeightDot.Half16(words, block));
        var q = WeightDot.Bytes4(words, block + 2 + (4 * p));
        var e = e0 + (4 * p);
        var sum = Dp4a(Centered(q & 0x0F0F0F0Fu), quants[xWord + (e >> 2)], 0);
        sum = Dp4a(Centered((q >> 4) & 0x0F0F0F0Fu), quants[xWord + ((e + 16) >> 2)], sum);
        return d * scales[xScale + (e0 >> 5)] * sum;
    }

    /// <summary>Four nibbles 0..15 (one per byte) to the signed bytes n − 8.</summary>
    private static uint Centered(uint nibbles) => (nibbles + 0x78787878u) ^ 0x80808080u;

    /// <summary>
    /// Q4_K unit p (16 nibble bytes of chunk p / 2: 16 weights of sub-block 2·(p / 2) low, 16 of the next high):
    /// Σ (d·sc·q − dmin·m)·x = d·sc·dx·Σ q·xq − dmin·m·dx·Σ xq per sub-block half, both sums by dp4a.
    /// </summary>
    private static float Q4K(ArrayView<uint> words, long block, int p, ArrayView<uint> quants, ArrayView<float> scales, long xWord, long xScale, int e0)
    {
        var w = block >> 2;
        var header = words[w];
        var d = WeightDecode.HalfToSingleCvt(header & 0xFFFF);
        var dmin = WeightDecode.HalfToSingleCvt(header >> 16);
        var chunk = p >> 1;
        var (scaleLo, minLo, scaleHi, minHi) = WeightDot.Q4KScales(words[w + 1], words[w + 2], words[w + 3], chunk);
        var e = e0 + (64 * chunk) + (16 * (p & 1));
        var q0 = w + 4 + (8 * chunk) + (4 * (p & 1));
        int lo = 0, hi = 0, xLo = 0, xHi = 0;
        for (var i = 0; i < 4; i++)
        {
            var q = words[q0 + i];
            var a = quants[xWord + (e >> 2) + i];
            var b = quants[xWord + ((e + 32) >> 2) + i];
            lo = Dp4a(q & 0x0F0F0F0Fu, a, lo);
            hi = Dp4a((q >> 4) & 0x0F0F0F0Fu, b, hi);
            xLo = Dp4a(0x01010101u, a, xLo);
            xHi = Dp4a(0x01010101u, b, xHi);
        }

        var dxLo = scales[xScale + (e >> 5)];
        var dxHi = scales[xScale + ((e + 32) >> 5)];
        return (dxLo * ((d * scaleLo * lo) - (dmin * minLo * xLo))) + (dxHi * ((d * scaleHi * hi) - (dmin * minHi * xHi)));
    }

    /// <summary>c + Σ of the four signed-byte products of a and b: <c>dp4a.s32.s32</c> on CUDA.</summary>
    public static int Dp4a(uint a, uint b, int c)
    {
        if (CudaAsm.IsSupported)
        {
            CudaAsm.Emit("dp4a.s32.s32 %0, %1, %2, %3;", out int result, (int)a, (int)b, c);
            return result;
        }

        return c + ((sbyte)a * (sbyte)b) + ((sbyte)(a >> 8) * (sbyte)(b >> 8)) + ((sbyte)(a >> 16) * (sbyte)(b >> 16)) + ((sbyte)(a >> 24) * (sbyte)(b >> 24));
    }

    /// <summary>
    /// Quantizes block <paramref name="block"/> (32 elements) of x (rows, k) to int8 with scale max|x| / 127, round to
    /// nearest even: quants as 8 little-endian words, the scale (0 for an all-zero block) in <paramref name="scales"/>.
    /// </summary>
    public static void QuantizeBlock(ArrayView<float> x, int block, ArrayView<uint> quants, ArrayView<float> scales)
    {
        var first = 32L * block;
        var max = 0f;
        for (var i = 0; i < 32; i++)
        {
            max = XMath.Max(max, XMath.Abs(x[first + i]));
        }

        var d = max / 127f;
        var inverse = max > 0f ? 127f / max : 0f;
        scales[block] = d;
        for (var wd = 0; wd < 8; wd++)
        {
            var packed = 0u;
            for (var b = 0; b < 4; b++)
            {
                var q = (int)XMath.RoundToEven(x[first + (4 * wd) + b] * inverse);
                packed |= (uint)(q & 0xFF) << (8 * b);
            }

            quants[(8L * block) + wd] = packed;
        }
    }
}
