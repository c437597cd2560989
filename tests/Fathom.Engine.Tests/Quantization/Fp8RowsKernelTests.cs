using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Fathom.Engine.Quantization;

namespace Fathom.Engine.Tests.Quantization;

/// <summary>
/// The FP8 e4m3 rows kernel (<see cref="WidenedMatMul"/> on <see cref="CheckpointTypes.Fp8Rows"/>): every byte widens
/// exactly at every vector width this process runs, outputs match the scalar reference (rows dequantized to f32 by
/// <see cref="Fp8Rows.Dequantize"/>, dotted in double), and every output is the same float whatever the batch, the
/// row range, or the path (streamed decode, panel prefill).
/// </summary>
public sealed unsafe class Fp8RowsKernelTests
{
    private const float Unscale = 1.329228e36f; // 2^120

    [Fact]
    public void Every_byte_but_the_nan_codes_widens_exactly_at_every_width()
    {
        var codes = Enumerable.Range(0, 256).Select(b => (byte)b).Where(b => !Fp8E4M3.IsNaN(b)).ToList();
        codes.AddRange([0, 0]); // 254 codes, padded to a multiple of every lane count
        var bytes = codes.ToArray();
        var expected = bytes.Select(b => BitConverter.SingleToInt32Bits(Fp8E4M3.ToSingle(b))).ToArray();
        var actual = new float[bytes.Length];
        fixed (byte* source = bytes)
        fixed (float* destination = actual)
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                destination[i] = Fp8ScaledElements.Element(source, i) * Unscale;
            }

            Assert.Equal(expected, actual.Select(BitConverter.SingleToInt32Bits).ToArray());
            if (Avx512F.IsSupported)
            {
                Widen<Lanes512, Vector512<float>>(source, destination, bytes.Length);
                Assert.Equal(expected, actual.Select(BitConverter.SingleToInt32Bits).ToArray());
            }

            if (Avx2.IsSupported)
            {
                Widen<Lanes256, Vector256<float>>(source, destination, bytes.Length);
                Assert.Equal(expected, actual.Select(BitConverter.SingleToInt32Bits).ToArray());
            }

            Widen<Lanes128, Vector128<float>>(source, destination, bytes.Length);
            Assert.Equal(expected, actual.Select(BitConverter.SingleToInt32Bits).ToArray());
        }
    }

    [Theory]
    [InlineData(2048 + 5, 1)]
    [InlineData(2048 + 5, 2)]
    [InlineData(2048 + 5, 9)]
    [InlineData(64, 5)]
    [InlineData(3, 4)]
    public void Outputs_match_the_dequantized_reference(int k, int count)
    {
        const int Rows = 19; // two groups of eight streamed rows and a ragged three
        var (weights, reference) = Matrix(Rows, k, seed: k + count);
        var x = Activations(count, k, seed: k * count);
        var y = Run(weights, k, 0, Rows, x, count);
        for (var t = 0; t < count; t++)
        {
            for (var r = 0; r < Rows; r++)
            {
                double exact = 0, magnitude = 0;
                for (var j = 0; j < k; j++)
                {
                    exact += (double)reference[(r * k) + j] * x[(t * k) + j];
                    magnitude += Math.Abs((double)reference[(r * k) + j] * x[(t * k) + j]);
                }

                var error = Math.Abs(y[(t * Rows) + r] - exact);
                Assert.True(error <= (1e-6 * magnitude) + 1e-30, $"row {r}, token {t}: {y[(t * Rows) + r]} vs {exact} (|terms| {magnitude})");
            }
        }
    }

    [Theory]
    [InlineData(2048 + 5)]
    [InlineData(256)]
    [InlineData(7)]
    public void Every_output_is_the_same_whatever_the_batch_and_row_range(int k)
    {
        const int Rows = 27;
        const int Count = 9;
        var (weights, _) = Matrix(Rows, k, seed: k);
        var x = Activations(Count, k, seed: k + 1);
        var batched = Run(weights, k, 0, Rows, x, Count);
        for (var t = 0; t < Count; t++)
        {
            var alone = Run(weights, k, 0, Rows, x.AsSpan(t * k, k).ToArray(), 1);
            Assert.Equal(alone, batched.AsSpan(t * Rows, Rows).ToArray());
        }

        // Row ranges as the driver cuts them (not multiples of eight), and a batch of two on the streamed path.
        var pieces = new float[2 * Rows];
        foreach (var (first, last) in new[] { (0, 5), (5, 21), (21, Rows) })
        {
            var part = Run(weights, k, first, last, x.AsSpan(0, 2 * k).ToArray(), 2);
            for (var t = 0; t < 2; t++)
            {
                Array.Copy(part, (t * Rows) + first, pieces, (t * Rows) + first, last - first);
            }
        }

        Assert.Equal(batched.AsSpan(0, 2 * Rows).ToArray(), pieces);
    }

    [Fact]
    public void Zero_rows_and_large_activations_stay_finite()
    {
        const int Rows = 9;
        const int K = 40;
        var values = new float[Rows * K];
        values[K + 3] = 1e-3f; // row 1: one tiny weight, so its e4m3 codes are mostly zero and one subnormal-scaled
        values[(2 * K) + 5] = -448f;
        var weights = new byte[Rows * Fp8Rows.RowBytes(K)];
        for (var r = 0; r < Rows; r++)
        {
            Fp8Rows.Quantize(values.AsSpan(r * K, K), weights.AsSpan((int)(r * Fp8Rows.RowBytes(K)), (int)Fp8Rows.RowBytes(K)), K);
        }

        var x = Enumerable.Repeat(3e4f, K).ToArray();
        var y = Run(weights, K, 0, Rows, x, 1);
        Assert.Equal(0f, y[0]);
        Assert.Equal(1e-3f * 3e4f, y[1], 1e-3f);
        Assert.Equal(-448f * 3e4f, y[2]);
    }

    private static (byte[] Weights, float[] Reference) Matrix(int rows, int k, int seed)
    {
        var random = new Random(seed);
        var rowBytes = (int)Fp8Rows.RowBytes(k);
        var weights = new byte[rows * rowBytes];
        var reference = new float[rows * k];
        for (var r = 0; r < rows; r++)
        {
            // Rows of different magnitudes, so the per-row scales differ and small codes (subnormals) occur.
            var magnitude = MathF.Pow(10, (r % 5) - 3);
            var values = Enumerable.Range(0, k).Select(_ => (float)(random.NextDouble() - 0.5) * magnitude).ToArray();
            var row = weights.AsSpan(r * rowBytes, rowBytes);
            Fp8Rows.Quantize(values, row, k);
            Fp8Rows.Dequantize(row, reference.AsSpan(r * k, k), k);
        }

        return (weights, reference);
    }

    private static float[] Activations(int count, int k, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count * k).Select(_ => (float)((random.NextDouble() - 0.5) * 4)).ToArray();
    }

    private static float[] Run(byte[] weights, int k, int first, int last, float[] x, int count)
    {
        var rows = weights.Length / (int)Fp8Rows.RowBytes(k);
        var y = new float[count * rows];
        var panel = new float[WidenedMatMul.BlockRows * k];
        fixed (byte* w = weights)
        fixed (float* a = x, o = y, scratch = panel)
        {
            WidenedMatMul.Rows(CheckpointTypes.Fp8Rows, w, Fp8Rows.RowBytes(k), k, first, last, a, k, count, o, rows, scratch);
        }

        return y;
    }

    private static void Widen<TL, TV>(byte* source, float* destination, int n)
        where TL : IFloatLanes<TV>
        where TV : struct
    {
        for (var i = 0; i + TL.Count <= n; i += TL.Count)
        {
            TL.Store(TL.MultiplyAdd(TL.LoadFp8Scaled(source + i), Splat<TL, TV>(Unscale), Splat<TL, TV>(-0f)), destination + i); // −0 addend keeps −0
        }
    }

    private static TV Splat<TL, TV>(float value)
        where TL : IFloatLanes<TV>
        where TV : struct
    {
        var lanes = stackalloc float[TL.Count];
        for (var i = 0; i < TL.Count; i++)
        {
            lanes[i] = value;
        }

        return TL.Load(lanes);
    }
}
