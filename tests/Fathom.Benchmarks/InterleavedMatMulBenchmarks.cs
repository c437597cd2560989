using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Fathom.Gguf;
using Fathom.Engine.Quantization;

namespace Fathom.Benchmarks;

/// <summary>
/// Q8_0 and Q4_0 matmuls on one thread, 2048 → 2048, for 1 activation row (decode) and 32 (a prefill tile): the
/// interleaved AVX-VNNI kernels the CPU backend uses against the row-major kernels it used before. GMAC/s =
/// 2048 × 2048 × <see cref="Activations"/> ÷ mean time.
/// </summary>
public unsafe class InterleavedMatMulBenchmarks
{
    private const int N = 2048;
    private byte* _q8, _q4, _q8Packed, _q4Packed;
    private byte[] _act = [];
    private int[] _info = [];
    private float[] _out = [];

    /// <summary>Activation rows.</summary>
    [Params(1, 32)]
    public int Activations { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        var w = new float[N * N];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = (float)(rng.NextDouble() - 0.5);
        }

        var x = new float[Activations * N];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (float)(rng.NextDouble() - 0.5);
        }

        _q8 = Encode(Q8_0.Quantize, w, Q8_0.RowBytes(w.Length));
        _q4 = Encode(Q4_0.Quantize, w, Q4_0.RowBytes(w.Length));
        _q8Packed = Pack(GgmlType.Q8_0, _q8);
        _q4Packed = Pack(GgmlType.Q4_0, _q4);
        _act = new byte[Activations * Q8_0.RowBytes(N)];
        Q8_0.Quantize(x, _act, x.Length);
        _info = new int[Activations * (N / 32) * 2];
        fixed (byte* a = _act)
        fixed (int* info = _info)
        {
            InterleavedMatMul.BlockInfo(a, Activations, N / 32, info);
        }

        _out = new float[Activations * N];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_q8);
        NativeMemory.AlignedFree(_q4);
        NativeMemory.AlignedFree(_q8Packed);
        NativeMemory.AlignedFree(_q4Packed);
    }

    [Benchmark(Baseline = true)]
    public void RowMajor_Q8_0() =>
        QuantMatMul.Q8_0(new ReadOnlySpan<byte>(_q8, (int)Q8_0.RowBytes(N * N)), N, N, _act, Activations, _out, N);

    [Benchmark]
    public void Interleaved_Q8_0() => Interleaved(GgmlType.Q8_0, _q8Packed);

    [Benchmark]
    public void RowMajor_Q4_0() =>
        QuantMatMul.Q4_0(new ReadOnlySpan<byte>(_q4, (int)Q4_0.RowBytes(N * N)), N, N, _act, Activations, _out, N);

    [Benchmark]
    public void Interleaved_Q4_0() => Interleaved(GgmlType.Q4_0, _q4Packed);

    private void Interleaved(GgmlType type, byte* weights)
    {
        fixed (byte* a = _act)
        fixed (int* info = _info)
        fixed (float* y = _out)
        {
            InterleavedMatMul.Rows(type, weights, N, N, 0, N, a, (int)Q8_0.RowBytes(N), info, Activations, y, N);
        }
    }

    private static byte* Encode(Action<ReadOnlySpan<float>, Span<byte>, int> quantize, float[] x, long bytes)
    {
        var p = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        quantize(x, new Span<byte>(p, (int)bytes), x.Length);
        return p;
    }

    private static byte* Pack(GgmlType type, byte* rowMajor)
    {
        var p = (byte*)NativeMemory.AlignedAlloc((nuint)InterleavedLayout.ByteSize(type, N, N), 64);
        InterleavedLayout.Pack(type, rowMajor, N, N, p);
        return p;
    }
}
