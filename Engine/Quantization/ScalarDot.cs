using System.Diagnostics.CodeAnalysis;

namespace Fathom.Engine.Quantization;

/// <summary>
/// Plain scalar dot products between a weight row and an activation row — the oracle the SIMD kernels are tested
/// against. Quantized weights pair with quantized activations (Q8_0 for Q8_0/Q4_0, Q8_K for Q4_K/Q6_K); per block
/// the integer dot is exact and is scaled once, as llama.cpp does.
/// </summary>
[SuppressMessage("Naming", "CA1707", Justification = "GGUF type names.")]
public static class ScalarDot
{
    /// <summary>Q8_0 weights · Q8_0 activations over <paramref name="n"/> elements.</summary>
    public static float Q8_0xQ8_0(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, int n)
    {
        var nb = DotGuard.Quantized(w, a, n, Q8_0.BlockSize, Q8_0.BlockBytes, Q8_0.BlockBytes, "Q8_0", "Q8_0");
        var sum = 0f;
        for (var b = 0; b < nb; b++)
        {
            var wb = w.Slice(b * Q8_0.BlockBytes, Q8_0.BlockBytes);
            var ab = a.Slice(b * Q8_0.BlockBytes, Q8_0.BlockBytes);
            var sumi = 0;
            for (var j = 0; j < 32; j++)
            {
                sumi += (sbyte)wb[2 + j] * (sbyte)ab[2 + j];
            }

            sum += sumi * (F16.Read(wb, 0) * F16.Read(ab, 0));
        }

        return sum;
    }

    /// <summary>Q4_0 weights · Q8_0 activations over <paramref name="n"/> elements.</summary>
    public static float Q4_0xQ8_0(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, int n)
    {
        var nb = DotGuard.Quantized(w, a, n, Q4_0.BlockSize, Q4_0.BlockBytes, Q8_0.BlockBytes, "Q4_0", "Q8_0");
        var sum = 0f;
        for (var b = 0; b < nb; b++)
        {
            var wb = w.Slice(b * Q4_0.BlockBytes, Q4_0.BlockBytes);
            var ab = a.Slice(b * Q8_0.BlockBytes, Q8_0.BlockBytes);
            var sumi = 0;
            for (var j = 0; j < 16; j++)
            {
                sumi += ((wb[2 + j] & 0xF) - 8) * (sbyte)ab[2 + j];
                sumi += ((wb[2 + j] >> 4) - 8) * (sbyte)ab[2 + j + 16];
            }

            sum += sumi * (F16.Read(wb, 0) * F16.Read(ab, 0));
        }

        return sum;
    }

    /// <summary>Q4_K weights · Q8_K activations over <paramref name="n"/> elements.</summary>
    public static float Q4KxQ8K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, int n)
    {
        var nb = DotGuard.Quantized(w, a, n, Q4K.BlockSize, Q4K.BlockBytes, Q8K.BlockBytes, "Q4_K", "Q8_K");
        var sum = 0f;
        for (var b = 0; b < nb; b++)
        {
            var wb = w.Slice(b * Q4K.BlockBytes, Q4K.BlockBytes);
            var ab = a.Slice(b * Q8K.BlockBytes, Q8K.BlockBytes);
            int sumi = 0, summ = 0;
            for (var j = 0; j < 8; j++)
            {
                var (sc, m) = Q4K.GetScaleMin(j, wb.Slice(Q4K.ScalesOffset, 12));
                var chunk = j / 2;
                var isum = 0;
                for (var l = 0; l < 32; l++)
                {
                    var q = wb[Q4K.QsOffset + (32 * chunk) + l];
                    var level = j % 2 == 0 ? q & 0xF : q >> 4;
                    isum += level * (sbyte)ab[Q8K.QsOffset + (32 * j) + l];
                }

                sumi += sc * isum;
                summ += m * (BsumAt(ab, 2 * j) + BsumAt(ab, (2 * j) + 1));
            }

            var da = BitConverter.ToSingle(ab);
            sum += (F16.Read(wb, 0) * da * sumi) - (F16.Read(wb, 2) * da * summ);
        }

        return sum;
    }

    /// <summary>Q6_K weights · Q8_K activations over <paramref name="n"/> elements.</summary>
    public static float Q6KxQ8K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, int n)
    {
        var nb = DotGuard.Quantized(w, a, n, Q6K.BlockSize, Q6K.BlockBytes, Q8K.BlockBytes, "Q6_K", "Q8_K");
        var sum = 0f;
        for (var b = 0; b < nb; b++)
        {
            var wb = w.Slice(b * Q6K.BlockBytes, Q6K.BlockBytes);
            var ab = a.Slice(b * Q8K.BlockBytes, Q8K.BlockBytes);
            var sumi = 0;
            for (var g = 0; g < 16; g++)
            {
                var isum = 0;
                for (var i = 0; i < 16; i++)
                {
                    var e = (16 * g) + i;
                    isum += (Q6K.Level(wb, e) - 32) * (sbyte)ab[Q8K.QsOffset + e];
                }

                sumi += (sbyte)wb[Q6K.ScalesOffset + g] * isum;
            }

            sum += F16.Read(wb, Q6K.DOffset) * BitConverter.ToSingle(ab) * sumi;
        }

        return sum;
    }

    /// <summary>F32 · F32.</summary>
    public static float F32xF32(ReadOnlySpan<float> w, ReadOnlySpan<float> a, int n)
    {
        DotGuard.Float(w.Length, a.Length, n, "F32");
        var sum = 0f;
        for (var i = 0; i < n; i++)
        {
            sum += w[i] * a[i];
        }

        return sum;
    }

    /// <summary>F16 weights (raw bytes) · F32 activations.</summary>
    public static float F16xF32(ReadOnlySpan<byte> w, ReadOnlySpan<float> a, int n)
    {
        DotGuard.Float(w.Length / 2, a.Length, n, "F16");
        var sum = 0f;
        for (var i = 0; i < n; i++)
        {
            sum += F16.Read(w, 2 * i) * a[i];
        }

        return sum;
    }

    /// <summary>BF16 weights (raw bytes) · F32 activations.</summary>
    public static float BF16xF32(ReadOnlySpan<byte> w, ReadOnlySpan<float> a, int n)
    {
        DotGuard.Float(w.Length / 2, a.Length, n, "BF16");
        var sum = 0f;
        for (var i = 0; i < n; i++)
        {
            sum += BF16.ToSingle((ushort)(w[2 * i] | (w[(2 * i) + 1] << 8))) * a[i];
        }

        return sum;
    }

    private static short BsumAt(ReadOnlySpan<byte> block, int g) => BitConverter.ToInt16(block.Slice(Q8K.BsumsOffset + (2 * g), 2));
}
