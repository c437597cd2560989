using BenchmarkDotNet.Attributes;
using Fathom.Engine.Quantization;
using BF16 = Fathom.Engine.Quantization.BF16;
using F16 = Fathom.Engine.Quantization.F16;

namespace Fathom.Benchmarks;

/// <summary>
/// One matrix-vector product per weight type (single thread): n_embd 2048 → 2048 and 2048 → 8192. GB/s of weights =
/// weight bytes ÷ mean time (2048×2048: Q8_0 4.46 MB, Q4_0 2.36 MB, Q4_K 2.36 MB, Q6_K 3.44 MB, F16/BF16 8.39 MB,
/// F32 16.8 MB; ×4 for 8192 rows).
/// </summary>
[MemoryDiagnoser]
public class MatVecBenchmarks
{
    private const int N = 2048;
    private byte[] _q8 = [], _q4 = [], _q4k = [], _q6k = [], _f16 = [], _bf16 = [], _actQ8 = [], _actQ8K = [];
    private float[] _f32 = [], _act = [], _out = [];

    /// <summary>Output rows.</summary>
    [Params(2048, 8192)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        var w = new float[Rows * N];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = (float)(rng.NextDouble() - 0.5);
        }

        _act = new float[N];
        for (var i = 0; i < N; i++)
        {
            _act[i] = (float)(rng.NextDouble() - 0.5);
        }

        _q8 = Quant(Q8_0.Quantize, w, Q8_0.RowBytes(w.Length));
        _q4 = Quant(Q4_0.Quantize, w, Q4_0.RowBytes(w.Length));
        _q4k = Quant(Q4K.Quantize, w, Q4K.RowBytes(w.Length));
        _q6k = Quant(Q6K.Quantize, w, Q6K.RowBytes(w.Length));
        _f16 = Quant(F16.Quantize, w, F16.RowBytes(w.Length));
        _bf16 = Quant(BF16.Quantize, w, BF16.RowBytes(w.Length));
        _f32 = w;
        _actQ8 = Quant(Q8_0.Quantize, _act, Q8_0.RowBytes(N));
        _actQ8K = Quant(Q8K.Quantize, _act, Q8K.RowBytes(N));
        _out = new float[Rows];
    }

    private static byte[] Quant(Action<ReadOnlySpan<float>, Span<byte>, int> q, float[] x, long bytes)
    {
        var r = new byte[bytes];
        q(x, r, x.Length);
        return r;
    }

    [Benchmark]
    public void MatVec_Q8_0() => QuantMatMul.Q8_0(_q8, Rows, N, _actQ8, 1, _out, Rows);

    [Benchmark]
    public void MatVec_Q4_0() => QuantMatMul.Q4_0(_q4, Rows, N, _actQ8, 1, _out, Rows);

    [Benchmark]
    public void MatVec_Q4_K() => QuantMatMul.Q4K(_q4k, Rows, N, _actQ8K, 1, _out, Rows);

    [Benchmark]
    public void MatVec_Q6_K() => QuantMatMul.Q6K(_q6k, Rows, N, _actQ8K, 1, _out, Rows);

    [Benchmark]
    public void MatVec_F16() => QuantMatMul.F16(_f16, Rows, N, _act, 1, _out, Rows);

    [Benchmark]
    public void MatVec_BF16() => QuantMatMul.BF16(_bf16, Rows, N, _act, 1, _out, Rows);

    [Benchmark]
    public void MatVec_F32() => QuantMatMul.F32(_f32, Rows, N, _act, 1, _out, Rows);
}

/// <summary>Quantizing one activation row of 2048 (per token, per matmul input).</summary>
public class ActivationQuantBenchmarks
{
    private readonly float[] _x = new float[2048];
    private readonly byte[] _q8 = new byte[Q8_0.RowBytes(2048)];
    private readonly byte[] _q8k = new byte[Q8K.RowBytes(2048)];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(2);
        for (var i = 0; i < _x.Length; i++)
        {
            _x[i] = (float)(rng.NextDouble() - 0.5);
        }
    }

    [Benchmark]
    public void ToQ8_0() => Q8_0.Quantize(_x, _q8, 2048);

    [Benchmark]
    public void ToQ8_K() => Q8K.Quantize(_x, _q8k, 2048);
}
