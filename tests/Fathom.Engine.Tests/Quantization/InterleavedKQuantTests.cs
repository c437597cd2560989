using Fathom.Engine.Quantization;
using Fathom.Gguf;

namespace Fathom.Engine.Tests.Quantization;

/// <summary>
/// The interleaved Q4_K/Q6_K kernels of every tier this process runs (the tier harness re-runs this assembly with the
/// upper tiers switched off; NeonDot's run everywhere, with sdot emulated where the CPU lacks it) against
/// dequantize-then-dot in double and the scalar oracle; batch and tier invariance.
/// </summary>
public sealed unsafe class InterleavedKQuantTests
{
    private const int Columns = 768;
    private const int Rows = 19; // two whole groups and a partial one
    private const int Count = 13; // 8 + 4 + 1 activations: every kernel width

    public static TheoryData<GgmlType, KernelTier> TierCases()
    {
        var data = new TheoryData<GgmlType, KernelTier>();
        foreach (var type in new[] { GgmlType.Q4_K, GgmlType.Q6_K })
        {
            foreach (var tier in new[] { KernelTier.Vector128, KernelTier.NeonDot, KernelTier.Avx2, KernelTier.Avx512 })
            {
                // NeonDot's kernels run wherever the 128-bit ones do: sdot is emulated exactly where the CPU lacks it.
                if (KernelTiers.Supports(tier) || (tier == KernelTier.NeonDot && KernelTiers.Supports(KernelTier.Vector128)))
                {
                    data.Add(type, tier);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TierCases))]
    public void Kernels_match_the_dequantized_dot_and_the_scalar_oracle(GgmlType type, KernelTier tier)
    {
        var m = Make(type, Columns, Rows, Count, seed: 3 + (int)type);
        var y = Run(m, tier, 0, Rows, Count);
        for (var t = 0; t < Count; t++)
        {
            for (var r = 0; r < Rows; r++)
            {
                double reference = 0, magnitude = 0;
                for (var i = 0; i < Columns; i++)
                {
                    var p = (double)m.WeightValues[(r * Columns) + i] * m.ActivationValues[(t * Columns) + i];
                    reference += p;
                    magnitude += Math.Abs(p);
                }

                var tolerance = (magnitude * 2e-6) + 1e-6;
                var actual = y[(t * Rows) + r];
                var oracle = Oracle(type, m.WeightRow(r), m.ActivationRow(t));
                Assert.True(Math.Abs(actual - reference) <= tolerance, $"{tier} row {r} activation {t}: {actual} vs {reference} (tol {tolerance:E2})");
                Assert.True(Math.Abs(actual - oracle) <= tolerance, $"{tier} row {r} activation {t}: {actual} vs scalar {oracle}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(TierCases))]
    public void Outputs_do_not_depend_on_the_batch_the_row_split_or_the_tier(GgmlType type, KernelTier tier)
    {
        var m = Make(type, 512, Rows, Count, seed: 11);
        var batched = Run(m, tier, 0, Rows, Count);
        var split = new float[Count * Rows];
        Run(m, tier, 0, 8, Count, split);
        Run(m, tier, 8, Rows, Count, split);
        Assert.Equal(batched, split);
        var portable = Run(m, KernelTier.Vector128, 0, Rows, Count);
        Assert.Equal(portable, batched);
        for (var t = 0; t < Count; t++)
        {
            var alone = new float[Rows];
            fixed (byte* w = m.Packed)
            fixed (byte* a = m.Activations)
            fixed (float* y = alone)
            {
                InterleavedKQuantMatMul.Rows(type, w, Rows, m.Columns, 0, Rows, a + (t * m.ActivationRowBytes), m.ActivationRowBytes, 1, y, Rows, tier);
            }

            Assert.Equal(alone, batched.AsSpan(t * Rows, Rows).ToArray());
        }
    }

    /// <summary>Largest levels, scales and activations: the 16-bit partial sums must not saturate.</summary>
    [Theory]
    [MemberData(nameof(TierCases))]
    public void Extreme_blocks_do_not_overflow_the_16_bit_partial_sums(GgmlType type, KernelTier tier)
    {
        foreach (var sign in new[] { 1, -1 })
        {
            var weight = new byte[type == GgmlType.Q4_K ? Q4K.BlockBytes : Q6K.BlockBytes];
            if (type == GgmlType.Q4_K)
            {
                F16.Write(weight, 0, 1f);
                F16.Write(weight, 2, 0.5f);
                weight.AsSpan(Q4K.ScalesOffset, 12).Fill(0xFF); // every 6-bit scale and min 63
                weight.AsSpan(Q4K.QsOffset).Fill(0xFF);
            }
            else
            {
                weight.AsSpan(0, Q6K.ScalesOffset).Fill(0xFF); // level 63 everywhere
                weight.AsSpan(Q6K.ScalesOffset, 16).Fill((byte)(sign > 0 ? 127 : 0x80));
                F16.Write(weight, Q6K.DOffset, 1f);
            }

            var activation = new byte[Q8K.BlockBytes];
            BitConverter.TryWriteBytes(activation, 1f);
            activation.AsSpan(Q8K.QsOffset, 256).Fill((byte)(sbyte)(127 * sign));
            for (var g = 0; g < 16; g++)
            {
                BitConverter.TryWriteBytes(activation.AsSpan(Q8K.BsumsOffset + (2 * g), 2), (short)(16 * 127 * sign));
            }

            var m = new Matrices(type, 256, 1, 1, weight, Pack(type, weight, 256, 1), activation, [], []);
            var y = Run(m, tier, 0, 1, 1);
            var oracle = Oracle(type, weight, activation);
            Assert.True(Math.Abs(y[0] - oracle) <= 1e-6 * Math.Abs(oracle), $"{tier} sign {sign}: {y[0]} vs scalar {oracle}");
        }
    }

    [Theory]
    [InlineData(256, 1f)]
    [InlineData(2048, 0.3f)]
    [InlineData(8192, 40f)]
    public void The_activation_quantizer_gives_the_reference_Q8_K_bytes(int n, float scale)
    {
        var x = QuantTestData.Values(n, n, scale);
        x[3] = -x.Max(MathF.Abs); // a tie of magnitudes: the first one sets the sign of the scale
        x[n - 1] = -x[3];
        x.AsSpan(256 - 16, 16).Clear();
        var expected = new byte[Q8K.RowBytes(n)];
        Q8K.Quantize(x, expected, n);
        var zeros = new float[256];
        var actual = new byte[expected.Length];
        var zeroBlock = new byte[Q8K.BlockBytes];
        fixed (float* px = x, pz = zeros)
        fixed (byte* py = actual, pb = zeroBlock)
        {
            ActivationQuantizer.Q8KRow(px, py, n);
            ActivationQuantizer.Q8KRow(pz, pb, 256);
        }

        Assert.Equal(expected, actual);
        Assert.Equal(new byte[Q8K.BlockBytes], zeroBlock);
    }

    private static float Oracle(GgmlType type, byte[] w, byte[] a) =>
        type == GgmlType.Q4_K ? ScalarDot.Q4KxQ8K(w, a, a.Length / Q8K.BlockBytes * 256) : ScalarDot.Q6KxQ8K(w, a, a.Length / Q8K.BlockBytes * 256);

    private static float[] Run(Matrices m, KernelTier tier, int first, int last, int count, float[]? output = null)
    {
        output ??= new float[count * m.Rows];
        fixed (byte* w = m.Packed)
        fixed (byte* a = m.Activations)
        fixed (float* y = output)
        {
            InterleavedKQuantMatMul.Rows(m.Type, w, m.Rows, m.Columns, first, last, a, m.ActivationRowBytes, count, y, m.Rows, tier);
        }

        return output;
    }

    private static Matrices Make(GgmlType type, int columns, int rows, int count, int seed)
    {
        var wx = QuantTestData.Values(rows * columns, seed);
        var ax = QuantTestData.Values(count * columns, seed + 1, 0.3f);
        var weights = new byte[rows * RowBytes(type, columns)];
        var wd = new float[rows * columns];
        if (type == GgmlType.Q4_K)
        {
            Q4K.Quantize(wx, weights, wx.Length);
            Q4K.Dequantize(weights, wd, wd.Length);
        }
        else
        {
            Q6K.Quantize(wx, weights, wx.Length);
            Q6K.Dequantize(weights, wd, wd.Length);
        }

        var activations = new byte[Q8K.RowBytes(ax.Length)];
        var ad = new float[ax.Length];
        Q8K.Quantize(ax, activations, ax.Length);
        Q8K.Dequantize(activations, ad, ad.Length);
        return new Matrices(type, columns, rows, count, weights, Pack(type, weights, columns, rows), activations, wd, ad);
    }

    private static int RowBytes(GgmlType type, int columns) => (int)(type == GgmlType.Q4_K ? Q4K.RowBytes(columns) : Q6K.RowBytes(columns));

    private static byte[] Pack(GgmlType type, byte[] weights, int columns, int rows)
    {
        var packed = new byte[InterleavedKQuantLayout.ByteSize(type, columns, rows) + 64];
        fixed (byte* source = weights)
        fixed (byte* destination = packed)
        {
            InterleavedKQuantLayout.Pack(type, source, columns, rows, destination);
        }

        return packed;
    }

    private sealed record Matrices(
        GgmlType Type, int Columns, int Rows, int Count, byte[] Weights, byte[] Packed, byte[] Activations,
        float[] WeightValues, float[] ActivationValues)
    {
        public int ActivationRowBytes => (int)Q8K.RowBytes(Columns);

        public byte[] WeightRow(int r) => Weights.AsSpan(r * RowBytes(Type, Columns), RowBytes(Type, Columns)).ToArray();

        public byte[] ActivationRow(int t) => Activations.AsSpan(t * ActivationRowBytes, ActivationRowBytes).ToArray();
    }
}
