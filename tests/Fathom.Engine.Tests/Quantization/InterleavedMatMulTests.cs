using System.Runtime.InteropServices;
using Fathom.Engine.Quantization;
using Fathom.Gguf;

namespace Fathom.Engine.Tests.Quantization;

/// <summary>
/// The interleaved Q8_0/Q4_0 kernels of this process's tier (<see cref="KernelTierTests"/> reruns them on the lower
/// tiers) against an exact per-block reference, with saturating extremes, padding rows and every batch shape.
/// </summary>
public sealed unsafe class InterleavedMatMulTests
{
    private const int Activations = 13; // eight, four and one at a time
    private const double Epsilon = 1.0 / (1 << 23);

    [Fact]
    public void Every_tier_with_vector_hardware_interleaves_Q8_0_and_Q4_0()
    {
        Assert.Equal(KernelTiers.Current >= KernelTier.Vector128, InterleavedLayout.IsSupported);
        Assert.Equal(InterleavedLayout.IsSupported, InterleavedLayout.Supports(GgmlType.Q4_0));
        Assert.False(InterleavedLayout.Supports(GgmlType.Q4_K));
    }

    [Theory]
    [InlineData(GgmlType.Q8_0, 32, 21)]
    [InlineData(GgmlType.Q8_0, 1024, 16)]
    [InlineData(GgmlType.Q4_0, 32, 3)]
    [InlineData(GgmlType.Q4_0, 1024, 21)]
    public void Outputs_match_the_exact_block_sums_and_do_not_depend_on_the_batch(GgmlType type, int columns, int rows)
    {
        Assert.SkipUnless(InterleavedLayout.IsSupported, "no vector hardware: the per-row kernels run instead");
        var random = new Random(columns + rows);
        var weights = Quantize(type, random, rows, columns, extreme: false, activation: false);
        var activations = Quantize(GgmlType.Q8_0, random, Activations, columns, extreme: false, activation: true);
        Check(type, weights, activations, rows, columns);
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void Extreme_weights_and_activations_do_not_saturate(GgmlType type)
    {
        Assert.SkipUnless(InterleavedLayout.IsSupported, "no vector hardware: the per-row kernels run instead");
        const int Columns = 256;
        const int Rows = 17; // two whole groups (the Avx512 tier's sixteen-row kernel) and a padded one
        var random = new Random(5);
        var weights = Quantize(type, random, Rows, Columns, extreme: true, activation: false);
        var activations = Quantize(GgmlType.Q8_0, random, Activations, Columns, extreme: true, activation: true);
        Check(type, weights, activations, Rows, Columns);
    }

    private static void Check(GgmlType type, byte[] weights, byte[] activations, int rows, int columns)
    {
        var nb = columns / 32;
        var aRow = (int)Q8_0.RowBytes(columns);
        var batched = Run(type, weights, activations, rows, columns, Activations);
        for (var t = 0; t < Activations; t++)
        {
            for (var r = 0; r < rows; r++)
            {
                var (exact, magnitude) = Reference(type, weights, activations, r, t, columns);
                var actual = batched[(t * rows) + r];
                var bound = ((nb + 2) * Epsilon * magnitude) + 1e-30;
                Assert.True(Math.Abs(actual - exact) <= bound, $"{type} row {r}, activation {t}: {actual} vs {exact} (bound {bound:E2})");
            }
        }

        foreach (var count in new[] { 1, 3, 4, 8, 9 })
        {
            for (var t0 = 0; t0 + count <= Activations; t0 += count)
            {
                var part = Run(type, weights, activations.AsSpan(t0 * aRow, count * aRow).ToArray(), rows, columns, count);
                Assert.Equal(batched.AsSpan(t0 * rows, count * rows).ToArray(), part);
            }
        }
    }

    private static float[] Run(GgmlType type, byte[] weights, byte[] activations, int rows, int columns, int count)
    {
        var nb = columns / 32;
        var aRow = (int)Q8_0.RowBytes(columns);
        var packed = (byte*)NativeMemory.AlignedAlloc((nuint)InterleavedLayout.ByteSize(type, columns, rows), 64);
        try
        {
            var info = new int[2 * count * nb];
            var y = new float[count * rows];
            fixed (byte* w = weights, a = activations)
            fixed (int* i = info)
            fixed (float* o = y)
            {
                InterleavedLayout.Pack(type, w, columns, rows, packed);
                InterleavedMatMul.BlockInfo(a, count, nb, i);
                InterleavedMatMul.Rows(type, packed, rows, columns, 0, rows, a, aRow, i, count, o, rows);
            }

            return y;
        }
        finally
        {
            NativeMemory.AlignedFree(packed);
        }
    }

    /// <summary>Σ over blocks of d_w·d_a·(exact integer dot) in double, and the same of the magnitudes.</summary>
    private static (double Exact, double Magnitude) Reference(GgmlType type, byte[] weights, byte[] activations, int row, int t, int columns)
    {
        var nb = columns / 32;
        var wBlock = type == GgmlType.Q8_0 ? Q8_0.BlockBytes : Q4_0.BlockBytes;
        double exact = 0, magnitude = 0;
        for (var b = 0; b < nb; b++)
        {
            var w = weights.AsSpan((((row * nb) + b) * wBlock), wBlock);
            var a = activations.AsSpan((((t * nb) + b) * Q8_0.BlockBytes), Q8_0.BlockBytes);
            long dot = 0;
            for (var e = 0; e < 32; e++)
            {
                var q = type == GgmlType.Q8_0
                    ? (sbyte)w[2 + e]
                    : (e < 16 ? w[2 + e] & 0xF : w[2 + e - 16] >> 4) - 8;
                dot += q * (sbyte)a[2 + e];
            }

            var scale = (double)BitConverter.ToHalf(w) * (double)BitConverter.ToHalf(a);
            exact += scale * dot;
            magnitude += Math.Abs(scale * dot);
        }

        return (exact, magnitude);
    }

    /// <summary>
    /// Random blocks (rows × columns) of <paramref name="type"/>; extreme ones hold only the largest magnitudes
    /// (−128 and 127 for Q8_0 weights, 0 and 15 nibbles, ±127 activations), the worst case for int16 pair sums.
    /// Activations never hold −128: <see cref="ActivationQuantizer"/> rounds to ±127 at most.
    /// </summary>
    private static byte[] Quantize(GgmlType type, Random random, int rows, int columns, bool extreme, bool activation)
    {
        var nb = columns / 32;
        var blockBytes = type == GgmlType.Q8_0 ? Q8_0.BlockBytes : Q4_0.BlockBytes;
        var bytes = new byte[rows * nb * blockBytes];
        for (var blk = 0; blk < rows * nb; blk++)
        {
            var block = bytes.AsSpan(blk * blockBytes, blockBytes);
            BitConverter.TryWriteBytes(block, (Half)((random.NextDouble() * 2) - 1));
            for (var i = 2; i < blockBytes; i++)
            {
                block[i] = (byte)random.Next(256);
                if (extreme && type == GgmlType.Q8_0)
                {
                    block[i] = (byte)(random.Next(2) == 0 ? 0x80 : 0x7F);
                }

                if (activation && block[i] == 0x80)
                {
                    block[i] = 0x81;
                }
                else if (extreme)
                {
                    block[i] = (byte)(random.Next(2) == 0 ? 0x00 : 0xFF);
                }
            }
        }

        return bytes;
    }
}
