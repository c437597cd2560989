using Fathom.Engine.Quantization;

namespace Fathom.Engine.Tests.Quantization;

/// <summary>Dot kernels against a double-precision sum of the dequantized operands; SIMD against scalar; batching.</summary>
public sealed class DotKernelTests
{
    public enum Kind { Q8_0, Q4_0, Q4K, Q6K }

    public static TheoryData<Kind, int> Cases()
    {
        var data = new TheoryData<Kind, int>();
        foreach (var n in new[] { 256, 2048, 11008 })
        {
            foreach (var k in Enum.GetValues<Kind>())
            {
                data.Add(k, n);
            }
        }

        data.Add(Kind.Q8_0, 32);
        data.Add(Kind.Q4_0, 96);
        return data;
    }

    private sealed record Operands(byte[] W, byte[] A, double Reference, double Magnitude);

    private static Operands Make(Kind kind, int n, int seed)
    {
        var wx = QuantTestData.Values(n, seed);
        var ax = QuantTestData.Values(n, seed + 1000, 0.3f);
        byte[] w, a;
        var wd = new float[n];
        var ad = new float[n];
        switch (kind)
        {
            case Kind.Q8_0:
                w = new byte[Q8_0.RowBytes(n)]; Q8_0.Quantize(wx, w, n); Q8_0.Dequantize(w, wd, n);
                break;
            case Kind.Q4_0:
                w = new byte[Q4_0.RowBytes(n)]; Q4_0.Quantize(wx, w, n); Q4_0.Dequantize(w, wd, n);
                break;
            case Kind.Q4K:
                w = new byte[Q4K.RowBytes(n)]; Q4K.Quantize(wx, w, n); Q4K.Dequantize(w, wd, n);
                break;
            default:
                w = new byte[Q6K.RowBytes(n)]; Q6K.Quantize(wx, w, n); Q6K.Dequantize(w, wd, n);
                break;
        }

        if (kind is Kind.Q8_0 or Kind.Q4_0)
        {
            a = new byte[Q8_0.RowBytes(n)]; Q8_0.Quantize(ax, a, n); Q8_0.Dequantize(a, ad, n);
        }
        else
        {
            a = new byte[Q8K.RowBytes(n)]; Q8K.Quantize(ax, a, n); Q8K.Dequantize(a, ad, n);
        }

        double reference = 0, magnitude = 0;
        for (var i = 0; i < n; i++)
        {
            reference += (double)wd[i] * ad[i];
            magnitude += Math.Abs((double)wd[i] * ad[i]);
        }

        return new Operands(w, a, reference, magnitude);
    }

    private static float Scalar(Kind k, byte[] w, byte[] a, int n) => k switch
    {
        Kind.Q8_0 => ScalarDot.Q8_0xQ8_0(w, a, n),
        Kind.Q4_0 => ScalarDot.Q4_0xQ8_0(w, a, n),
        Kind.Q4K => ScalarDot.Q4KxQ8K(w, a, n),
        _ => ScalarDot.Q6KxQ8K(w, a, n),
    };

    private static float Simd(Kind k, byte[] w, byte[] a, int n) => k switch
    {
        Kind.Q8_0 => SimdDot.Q8_0xQ8_0(w, a, n),
        Kind.Q4_0 => SimdDot.Q4_0xQ8_0(w, a, n),
        Kind.Q4K => SimdDot.Q4KxQ8K(w, a, n),
        _ => SimdDot.Q6KxQ8K(w, a, n),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Quantized_dots_match_a_double_precision_reference(Kind kind, int n)
    {
        var op = Make(kind, n, n + (int)kind);
        // Products of dequantized values are what the kernels sum; only float rounding separates them
        // (per-block scale products in f32 and the f32 accumulation): a few ulps of the magnitude.
        var tolerance = (op.Magnitude * 2e-6) + 1e-6;
        var scalar = Scalar(kind, op.W, op.A, n);
        var simd = Simd(kind, op.W, op.A, n);
        Assert.True(Math.Abs(scalar - op.Reference) <= tolerance, $"scalar {scalar} vs {op.Reference} (tol {tolerance})");
        Assert.True(Math.Abs(simd - op.Reference) <= tolerance, $"simd {simd} vs {op.Reference} (tol {tolerance})");
        if (kind is Kind.Q4K or Kind.Q6K)
        {
            Assert.Equal(scalar, simd); // each super-block reduces to an exact integer first
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(255)]
    [InlineData(4096)]
    [InlineData(3079)]
    public void Float_dots_match_a_double_precision_reference(int n)
    {
        var w = QuantTestData.Values(n, n);
        var a = QuantTestData.Values(n, n + 1);
        var h = new byte[2 * n];
        var b = new byte[2 * n];
        F16.Quantize(w, h, n);
        BF16.Quantize(w, b, n);
        var wh = new float[n];
        var wb = new float[n];
        F16.Dequantize(h, wh, n);
        BF16.Dequantize(b, wb, n);
        double r32 = 0, r16 = 0, rb = 0, mag = 0;
        for (var i = 0; i < n; i++)
        {
            r32 += (double)w[i] * a[i];
            r16 += (double)wh[i] * a[i];
            rb += (double)wb[i] * a[i];
            mag += Math.Abs((double)w[i] * a[i]);
        }

        var tol = (mag * 1e-6) + 1e-6;
        Assert.InRange(ScalarDot.F32xF32(w, a, n), r32 - tol, r32 + tol);
        Assert.InRange(SimdDot.F32xF32(w, a, n), r32 - tol, r32 + tol);
        Assert.InRange(ScalarDot.F16xF32(h, a, n), r16 - tol, r16 + tol);
        Assert.InRange(SimdDot.F16xF32(h, a, n), r16 - tol, r16 + tol);
        Assert.InRange(ScalarDot.BF16xF32(b, a, n), rb - tol, rb + tol);
        Assert.InRange(SimdDot.BF16xF32(b, a, n), rb - tol, rb + tol);
    }

    [Theory]
    [InlineData(Kind.Q8_0)]
    [InlineData(Kind.Q4_0)]
    [InlineData(Kind.Q4K)]
    [InlineData(Kind.Q6K)]
    public void Matmul_results_do_not_depend_on_batch_size(Kind kind)
    {
        const int n = 512, rows = 5, tokens = 7;
        var wx = QuantTestData.Values(rows * n, 1);
        var ax = QuantTestData.Values(tokens * n, 2);
        var (weights, acts) = kind switch
        {
            Kind.Q8_0 => (Q(Q8_0.Quantize, wx, Q8_0.RowBytes(rows * n)), Q(Q8_0.Quantize, ax, Q8_0.RowBytes(tokens * n))),
            Kind.Q4_0 => (Q(Q4_0.Quantize, wx, Q4_0.RowBytes(rows * n)), Q(Q8_0.Quantize, ax, Q8_0.RowBytes(tokens * n))),
            Kind.Q4K => (Q(Q4K.Quantize, wx, Q4K.RowBytes(rows * n)), Q(Q8K.Quantize, ax, Q8K.RowBytes(tokens * n))),
            _ => (Q(Q6K.Quantize, wx, Q6K.RowBytes(rows * n)), Q(Q8K.Quantize, ax, Q8K.RowBytes(tokens * n))),
        };
        var wRow = weights.Length / rows;
        var aRow = acts.Length / tokens;
        var batched = new float[tokens * rows];
        MatMul(kind, weights, rows, n, acts, tokens, batched, rows);
        for (var t = 0; t < tokens; t++)
        {
            var single = new float[rows];
            MatMul(kind, weights, rows, n, acts.AsSpan(t * aRow, aRow).ToArray(), 1, single, rows);
            for (var r = 0; r < rows; r++)
            {
                var dot = Simd(kind, weights.AsSpan(r * wRow, wRow).ToArray(), acts.AsSpan(t * aRow, aRow).ToArray(), n);
                Assert.Equal(dot, single[r]);
                Assert.Equal(dot, batched[(t * rows) + r]);
            }
        }
    }

    private static byte[] Q(Action<ReadOnlySpan<float>, Span<byte>, int> quantize, float[] x, long bytes)
    {
        var result = new byte[bytes];
        quantize(x, result, x.Length);
        return result;
    }

    private static void MatMul(Kind k, byte[] w, int rows, int n, byte[] a, int count, float[] output, int stride)
    {
        switch (k)
        {
            case Kind.Q8_0: QuantMatMul.Q8_0(w, rows, n, a, count, output, stride); break;
            case Kind.Q4_0: QuantMatMul.Q4_0(w, rows, n, a, count, output, stride); break;
            case Kind.Q4K: QuantMatMul.Q4K(w, rows, n, a, count, output, stride); break;
            default: QuantMatMul.Q6K(w, rows, n, a, count, output, stride); break;
        }
    }

    [Fact]
    public void Float_matmul_matches_single_dots()
    {
        const int n = 300, rows = 3, tokens = 6;
        var w = QuantTestData.Values(rows * n, 3);
        var a = QuantTestData.Values(tokens * n, 4);
        var h = new byte[2 * rows * n];
        F16.Quantize(w, h, rows * n);
        var out32 = new float[tokens * rows];
        var out16 = new float[tokens * rows];
        var outBf = new float[tokens * rows];
        var b = new byte[2 * rows * n];
        BF16.Quantize(w, b, rows * n);
        QuantMatMul.F32(w, rows, n, a, tokens, out32, rows);
        QuantMatMul.F16(h, rows, n, a, tokens, out16, rows);
        QuantMatMul.BF16(b, rows, n, a, tokens, outBf, rows);
        for (var t = 0; t < tokens; t++)
        {
            for (var r = 0; r < rows; r++)
            {
                Assert.Equal(SimdDot.F32xF32(w.AsSpan(r * n, n), a.AsSpan(t * n, n), n), out32[(t * rows) + r]);
                Assert.Equal(SimdDot.F16xF32(h.AsSpan(2 * r * n, 2 * n), a.AsSpan(t * n, n), n), out16[(t * rows) + r]);
                Assert.Equal(SimdDot.BF16xF32(b.AsSpan(2 * r * n, 2 * n), a.AsSpan(t * n, n), n), outBf[(t * rows) + r]);
            }
        }
    }
}
