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

    /// <summary>Quantizes one row of <paramref name="n"/> floats (a multiple of 256) to Q8_K, as llama.cpp does.</summary>
    public static void Q8KRow(float* x, byte* y, int n) =>
        Q8K.Quantize(new ReadOnlySpan<float>(x, n), new Span<byte>(y, (int)Q8K.RowBytes(n)), n);

    private static void Narrow(Vector256<float> rounded, sbyte* destination)
    {
        var i = Vector256.ConvertToInt32(rounded);
        for (var j = 0; j < 8; j++)
        {
            destination[j] = (sbyte)i.GetElement(j);
        }
    }
}
