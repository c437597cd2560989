using System.Diagnostics.CodeAnalysis;
using Fathom.Gguf;

namespace Fathom.Engine.Quantization;

/// <summary>
/// SIMD dot products (AVX2/FMA, AVX-VNNI dpbusd when present; Vector512 for float rows), same contracts as
/// <see cref="ScalarDot"/>. Quantized results agree with the scalar oracle up to float reassociation within a row
/// (k-quants: exactly, since each super-block reduces to an exact integer first).
/// </summary>
[SuppressMessage("Naming", "CA1707", Justification = "GGUF type names.")]
public static unsafe class SimdDot
{
    /// <summary>Q8_0 weights · Q8_0 activations over <paramref name="n"/> elements.</summary>
    public static float Q8_0xQ8_0(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, int n)
    {
        var nb = DotGuard.Quantized(w, a, n, Q8_0.BlockSize, Q8_0.BlockBytes, Q8_0.BlockBytes, "Q8_0", "Q8_0");
        if (!DotKernels.IsSupported)
        {
            return ScalarDot.Q8_0xQ8_0(w, a, n);
        }

        fixed (byte* pw = w, pa = a)
        {
            return DotKernels.Q8_0One(pw, pa, nb);
        }
    }

    /// <summary>Q4_0 weights · Q8_0 activations over <paramref name="n"/> elements.</summary>
    public static float Q4_0xQ8_0(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, int n)
    {
        var nb = DotGuard.Quantized(w, a, n, Q4_0.BlockSize, Q4_0.BlockBytes, Q8_0.BlockBytes, "Q4_0", "Q8_0");
        if (!DotKernels.IsSupported)
        {
            return ScalarDot.Q4_0xQ8_0(w, a, n);
        }

        fixed (byte* pw = w, pa = a)
        {
            return DotKernels.Q4_0One(pw, pa, nb);
        }
    }

    /// <summary>Q4_K weights · Q8_K activations over <paramref name="n"/> elements.</summary>
    public static float Q4KxQ8K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, int n)
    {
        var nb = DotGuard.Quantized(w, a, n, Q4K.BlockSize, Q4K.BlockBytes, Q8K.BlockBytes, "Q4_K", "Q8_K");
        if (!DotKernels.IsSupported)
        {
            return ScalarDot.Q4KxQ8K(w, a, n);
        }

        fixed (byte* pw = w, pa = a)
        {
            return DotKernels.Q4KOne(pw, pa, nb);
        }
    }

    /// <summary>Q6_K weights · Q8_K activations over <paramref name="n"/> elements.</summary>
    public static float Q6KxQ8K(ReadOnlySpan<byte> w, ReadOnlySpan<byte> a, int n)
    {
        var nb = DotGuard.Quantized(w, a, n, Q6K.BlockSize, Q6K.BlockBytes, Q8K.BlockBytes, "Q6_K", "Q8_K");
        if (!DotKernels.IsSupported)
        {
            return ScalarDot.Q6KxQ8K(w, a, n);
        }

        fixed (byte* pw = w, pa = a)
        {
            return DotKernels.Q6KOne(pw, pa, nb);
        }
    }

    /// <summary>F32 · F32 (the CPU backend's sequence for one output, <see cref="WidenedMatMul"/>).</summary>
    public static float F32xF32(ReadOnlySpan<float> w, ReadOnlySpan<float> a, int n)
    {
        DotGuard.Float(w.Length, a.Length, n, "F32");
        fixed (float* pw = w, pa = a)
        {
            return WidenedMatMul.Dot(GgmlType.F32, (byte*)pw, pa, n);
        }
    }

    /// <summary>F16 weights (raw bytes) · F32 activations, converted in registers.</summary>
    public static float F16xF32(ReadOnlySpan<byte> w, ReadOnlySpan<float> a, int n)
    {
        DotGuard.Float(w.Length / 2, a.Length, n, "F16");
        fixed (byte* pw = w)
        fixed (float* pa = a)
        {
            return WidenedMatMul.Dot(GgmlType.F16, pw, pa, n);
        }
    }

    /// <summary>BF16 weights (raw bytes) · F32 activations, converted in registers.</summary>
    public static float BF16xF32(ReadOnlySpan<byte> w, ReadOnlySpan<float> a, int n)
    {
        DotGuard.Float(w.Length / 2, a.Length, n, "BF16");
        fixed (byte* pw = w)
        fixed (float* pa = a)
        {
            return WidenedMatMul.Dot(GgmlType.BF16, pw, pa, n);
        }
    }
}
