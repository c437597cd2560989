using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Fathom.Engine.Quantization;

/// <summary>
/// Quantizes f32 activation rows to the format a weight type's integer dot pairs with, once per matmul input:
/// Q8_0 for Q8_0/Q4_0 weights, Q8_K for Q4_K/Q6_K. Q8_0 follows llama.cpp's vectorised x86 quantizer (not the
/// reference one used for files): <c>d = amax/127</c> stored as fp16, <c>q = round-half-even(x · (127/amax))</c>,
/// so the same activations give the same bytes as llama.cpp's.
/// </summary>
internal static unsafe class ActivationQuantizer
{
    /// <summary>The activation format paired with weights of <paramref name="weight"/> type (Q8_0 or Q8_K).</summary>
    public static Gguf.GgmlType PairedFormat(Gguf.GgmlType weight) => weight switch
    {
        Gguf.GgmlType.Q8_0 or Gguf.GgmlType.Q4_0 => Gguf.GgmlType.Q8_0,
        Gguf.GgmlType.Q4_K or Gguf.GgmlType.Q6_K => Gguf.GgmlType.Q8_K,
        _ => throw new NotSupportedException($"{weight} weights do not take quantized activations"),
    };

    /// <summary>Quantizes one row of <paramref name="n"/> floats (a multiple of 32) to Q8_0. // x (n) → y (n/32 · 34 bytes)</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8_0Row(float* x, byte* y, int n)
    {
        for (var b = 0; b < n; b += 32, x += 32, y += 34)
        {
            var v0 = Vector256.Load<float>(x);
            var v1 = Vector256.Load<float>(x + 8);
            var v2 = Vector256.Load<float>(x + 16);
            var v3 = Vector256.Load<float>(x + 24);
            var m = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
            var max = 0f;
            for (var j = 0; j < 8; j++)
            {
                max = MathF.Max(max, m.GetElement(j));
            }

            *(Half*)y = (Half)(max / 127f);
            var id = Vector256.Create(max != 0 ? 127f / max : 0f);
            var q = (sbyte*)(y + 2);
            Narrow(Vector256.Round(v0 * id), q);
            Narrow(Vector256.Round(v1 * id), q + 8);
            Narrow(Vector256.Round(v2 * id), q + 16);
            Narrow(Vector256.Round(v3 * id), q + 24);
        }
    }

    /// <summary>
    /// Quantizes one row of <paramref name="n"/> floats (a multiple of 256) to Q8_K, giving the same bytes as
    /// <see cref="Q8K.Quantize"/> (llama.cpp's reference): the signed value of the first largest magnitude sets the
    /// scale, q = min(127, round-half-even(x · iscale)). Vectorised because every K-quant matmul input passes here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8KRow(float* x, byte* y, int n)
    {
        if (!Vector256.IsHardwareAccelerated)
        {
            Q8K.Quantize(new ReadOnlySpan<float>(x, n), new Span<byte>(y, (int)Q8K.RowBytes(n)), n);
            return;
        }

        for (var b = 0; b < n; b += Q8K.BlockSize, x += Q8K.BlockSize, y += Q8K.BlockBytes)
        {
            var m = Vector256<float>.Zero;
            for (var i = 0; i < Q8K.BlockSize; i += 8)
            {
                m = Vector256.Max(m, Vector256.Abs(Vector256.Load(x + i)));
            }

            var amax = 0f;
            for (var j = 0; j < 8; j++)
            {
                amax = MathF.Max(amax, m.GetElement(j));
            }

            if (amax == 0)
            {
                new Span<byte>(y, Q8K.BlockBytes).Clear();
                continue;
            }

            var first = 0;
            while (MathF.Abs(x[first]) != amax)
            {
                first++;
            }

            var iscale = -127f / x[first];
            var scale = Vector256.Create(iscale);
            var limit = Vector256.Create(127);
            var q = (sbyte*)(y + Q8K.QsOffset);
            var sums = (short*)(y + Q8K.BsumsOffset);
            for (var g = 0; g < 16; g++)
            {
                var i0 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + (16 * g)) * scale)), limit);
                var i1 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + (16 * g) + 8) * scale)), limit);
                var s16 = Vector256.Narrow(i0, i1);
                Vector128.Narrow(s16.GetLower(), s16.GetUpper()).Store(q + (16 * g));
                sums[g] = (short)Vector256.Sum(i0 + i1);
            }

            *(float*)y = 1 / iscale;
        }
    }

    private static void Narrow(Vector256<float> rounded, sbyte* destination)
    {
        var i = Vector256.ConvertToInt32(rounded);
        for (var j = 0; j < 8; j++)
        {
            destination[j] = (sbyte)i.GetElement(j);
        }
    }
}
