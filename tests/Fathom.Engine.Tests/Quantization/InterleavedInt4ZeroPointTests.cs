using System.Runtime.InteropServices;
using Fathom.Engine.Backends;
using Fathom.Engine.Backends.Cpu;
using Fathom.Engine.Quantization;
using Fathom.Engine.Quantization.Checkpoints;
using Fathom.Engine.Tests.Quantization.Checkpoints;

namespace Fathom.Engine.Tests.Quantization;

/// <summary>
/// The interleaved AWQ/GPTQ (<see cref="Int4ZeroPoint"/>) kernels of this process's tier (<see cref="KernelTierTests"/>
/// reruns them on the lower tiers): exact per-block integer dots for any nibble and zero point, outputs that do not
/// depend on the batch, and through the CPU backend AWQ, symmetric and asymmetric GPTQ and GPTQ <c>desc_act</c>
/// matrices against their published formula's f32 weights, within the int8 activation rounding.
/// </summary>
public sealed unsafe class InterleavedInt4ZeroPointTests
{
    private const int Activations = 13; // four and one at a time
    private const double Epsilon = 1.0 / (1 << 23);
    private const string Prefix = "model.layers.0.mlp.up_proj";

    [Theory]
    [InlineData(32, 3, false)]
    [InlineData(1024, 21, false)]
    [InlineData(256, 16, false)]
    [InlineData(256, 9, true)]
    public void Outputs_match_the_exact_block_sums_and_do_not_depend_on_the_batch(int columns, int rows, bool extreme)
    {
        Assert.SkipUnless(InterleavedInt4ZeroPointLayout.IsSupported, "no vector hardware: the decoded rows run instead");
        var random = new Random(columns + rows);
        var weights = Int4Rows(random, rows, columns, extreme);
        var activations = Q8_0Activations(random, Activations, columns, extreme);
        var nb = columns / 32;
        var aRow = (int)Q8_0.RowBytes(columns);
        var batched = Run(weights, activations, rows, columns, Activations);
        for (var t = 0; t < Activations; t++)
        {
            for (var r = 0; r < rows; r++)
            {
                var (exact, magnitude) = Reference(weights, activations, r, t, columns);
                var actual = batched[(t * rows) + r];
                var bound = ((nb + 2) * Epsilon * magnitude) + 1e-30;
                Assert.True(Math.Abs(actual - exact) <= bound, $"row {r}, activation {t}: {actual} vs {exact} (bound {bound:E2})");
            }
        }

        foreach (var count in new[] { 1, 3, 4, 5, 8 })
        {
            for (var t0 = 0; t0 + count <= Activations; t0 += count)
            {
                var part = Run(weights, activations.AsSpan(t0 * aRow, count * aRow).ToArray(), rows, columns, count);
                Assert.Equal(batched.AsSpan(t0 * rows, count * rows).ToArray(), part);
            }
        }
    }

    [Fact]
    public void Packing_in_place_takes_row_counts_in_whole_groups_and_leaves_the_others()
    {
        var random = new Random(2);
        var odd = Int4Rows(random, 21, 64, extreme: false);
        var before = odd.ToArray();
        Assert.False(InterleavedInt4ZeroPointLayout.PackInPlace(odd, 64, 21));
        Assert.Equal(before, odd);

        var whole = Int4Rows(random, 16, 64, extreme: false);
        var expected = new byte[InterleavedInt4ZeroPointLayout.ByteSize(64, 16)];
        fixed (byte* source = whole, destination = expected)
        {
            InterleavedInt4ZeroPointLayout.Pack(source, 64, 16, destination);
        }

        Assert.True(InterleavedInt4ZeroPointLayout.PackInPlace(whole, 64, 16));
        Assert.Equal(expected, whole.AsSpan(0, expected.Length).ToArray());
    }

    public static TheoryData<string> Formats() => ["awq", "gptq-sym", "gptq-asym", "gptq-asym-v2", "gptq-desc-act", "gptq-sym-desc-act"];

    [Theory]
    [MemberData(nameof(Formats))]
    public void Cpu_matmul_of_a_checkpoint_matches_its_published_formula_within_activation_rounding(string format)
    {
        Assert.SkipUnless(InterleavedInt4ZeroPointLayout.IsSupported, "no vector hardware: the decoded rows run instead");
        const int Out = 40, In = 512, Group = 128, Rows = 9;
        var source = PublishedFormatTests.Weights(Out, In, 21);
        var (config, tensors) = Quantize(format, source, Out, In, Group);
        var checkpoint = new QuantizedCheckpoint(config);
        var find = PublishedFormatTests.Lookup(tensors);
        var formula = checkpoint.Dequantize(Prefix, In, Out, find)!;
        var repacked = checkpoint.Repack(Prefix, In, Out, find)!;
        Assert.Equal(format.Contains("desc-act", StringComparison.Ordinal), repacked.ColumnOrder is not null);
        Assert.True(InterleavedInt4ZeroPointLayout.PackInPlace(repacked.Data, In, Out));

        var random = new Random(5);
        var x = new float[Rows * In];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (float)((random.NextDouble() * 2) - 1) * (random.Next(40) == 0 ? 8f : 1f);
        }

        var order = repacked.ColumnOrder ?? [.. Enumerable.Range(0, In)];
        fixed (byte* p = repacked.Data)
        {
            var w = new WeightMatrix("test", repacked.Type, p, In, Out, interleaved: true, columnOrder: repacked.ColumnOrder);
            using var cpu = new CpuBackend(2);
            var y = new float[Rows * Out];
            cpu.MatMul(x, Rows, new MatMulTarget(w, y));
            for (var t = 0; t < Rows; t++)
            {
                // Each activation's rounding error is at most about half its (stored-order) block's step max|x|/127.
                var step = new double[In];
                for (var b = 0; b < In / 32; b++)
                {
                    double max = 0;
                    for (var c = b * 32; c < (b + 1) * 32; c++)
                    {
                        max = Math.Max(max, Math.Abs(x[(t * In) + order[c]]));
                    }

                    for (var c = b * 32; c < (b + 1) * 32; c++)
                    {
                        step[order[c]] = max / 127;
                    }
                }

                for (var o = 0; o < Out; o++)
                {
                    double exact = 0, magnitude = 0, rounding = 0;
                    for (var i = 0; i < In; i++)
                    {
                        var weight = (double)formula[(o * In) + i];
                        exact += weight * x[(t * In) + i];
                        magnitude += Math.Abs(weight * x[(t * In) + i]);
                        rounding += Math.Abs(weight) * step[i] * 0.6;
                    }

                    var actual = y[(t * Out) + o];
                    var bound = rounding + ((In + 2) * Epsilon * magnitude);
                    Assert.True(Math.Abs(actual - exact) <= bound, $"{format} [{t},{o}]: {actual} vs {exact} (bound {bound:E2})");
                    Assert.True(Math.Abs(actual - exact) <= 0.02 * magnitude, $"{format} [{t},{o}]: {actual} vs {exact}: not a real dot");
                }
            }

            // One activation at a time gives the very same outputs as the batch.
            for (var t = 0; t < Rows; t++)
            {
                var single = new float[Out];
                cpu.MatMul(x.AsSpan(t * In, In).ToArray(), 1, new MatMulTarget(w, single));
                Assert.Equal(y.AsSpan(t * Out, Out).ToArray(), single);
            }
        }
    }

    private static (CheckpointQuantization Config, IReadOnlyList<CheckpointTensor> Tensors) Quantize(string format, float[] source, int outFeatures, int inFeatures, int group)
    {
        if (format == "awq")
        {
            return (new CheckpointQuantization(CheckpointQuantizationMethod.Awq, 4, group, false, false, 0, []),
                AwqGemm.Quantize(Prefix, source, outFeatures, inFeatures, group));
        }

        var symmetric = format.Contains("-sym", StringComparison.Ordinal);
        var descAct = format.Contains("desc-act", StringComparison.Ordinal);
        var zeroOffset = format.EndsWith("-v2", StringComparison.Ordinal) ? 0 : 1;
        var actOrder = descAct ? [.. Enumerable.Range(0, inFeatures).OrderBy(i => (i * 7919) % 263)] : (int[]?)null;
        return (new CheckpointQuantization(CheckpointQuantizationMethod.Gptq, 4, group, symmetric, descAct, zeroOffset, []),
            Gptq.Quantize(Prefix, source, outFeatures, inFeatures, group, symmetric, zeroOffset, actOrder));
    }

    private static float[] Run(byte[] weights, byte[] activations, int rows, int columns, int count)
    {
        var nb = columns / 32;
        var aRow = (int)Q8_0.RowBytes(columns);
        var packed = (byte*)NativeMemory.AlignedAlloc((nuint)InterleavedInt4ZeroPointLayout.ByteSize(columns, rows), 64);
        try
        {
            var info = new int[2 * count * nb];
            var y = new float[count * rows];
            fixed (byte* w = weights, a = activations)
            fixed (int* i = info)
            fixed (float* o = y)
            {
                InterleavedInt4ZeroPointLayout.Pack(w, columns, rows, packed);
                InterleavedMatMul.BlockInfo(a, count, nb, i);
                InterleavedInt4ZeroPointMatMul.Rows(packed, rows, columns, 0, rows, a, aRow, i, count, o, rows);
            }

            return y;
        }
        finally
        {
            NativeMemory.AlignedFree(packed);
        }
    }

    /// <summary>Σ over blocks of s·d_a·Σ (q − z)·x in double, and the same of the magnitudes.</summary>
    private static (double Exact, double Magnitude) Reference(byte[] weights, byte[] activations, int row, int t, int columns)
    {
        var nb = columns / 32;
        double exact = 0, magnitude = 0;
        for (var b = 0; b < nb; b++)
        {
            var w = weights.AsSpan(((row * nb) + b) * Int4ZeroPoint.BlockBytes, Int4ZeroPoint.BlockBytes);
            var a = activations.AsSpan(((t * nb) + b) * Q8_0.BlockBytes, Q8_0.BlockBytes);
            long dot = 0;
            for (var e = 0; e < 32; e++)
            {
                var q = e < 16 ? w[Int4ZeroPoint.QsOffset + e] & 0xF : w[Int4ZeroPoint.QsOffset + e - 16] >> 4;
                dot += (q - w[2]) * (sbyte)a[2 + e];
            }

            var scale = (double)BitConverter.ToHalf(w) * (double)BitConverter.ToHalf(a);
            exact += scale * dot;
            magnitude += Math.Abs(scale * dot);
        }

        return (exact, magnitude);
    }

    /// <summary>Random rows of blocks: any nibbles and zero points 0–16; extreme ones only 0/15 nibbles and 0/16 zeros.</summary>
    private static byte[] Int4Rows(Random random, int rows, int columns, bool extreme)
    {
        var nb = columns / 32;
        var bytes = new byte[rows * nb * Int4ZeroPoint.BlockBytes];
        var quants = new byte[32];
        for (var blk = 0; blk < rows * nb; blk++)
        {
            random.NextBytes(quants);
            for (var i = 0; extreme && i < 32; i++)
            {
                quants[i] = (byte)(random.Next(2) == 0 ? 0 : 15);
            }

            var zero = extreme ? random.Next(2) * 16 : random.Next(17);
            var scale = BitConverter.HalfToUInt16Bits((Half)((random.NextDouble() * 2) - 1));
            Int4ZeroPoint.WriteBlock(quants, scale, zero, bytes.AsSpan(blk * Int4ZeroPoint.BlockBytes, Int4ZeroPoint.BlockBytes));
        }

        return bytes;
    }

    /// <summary>Random Q8_0 activation blocks (never −128, as <see cref="ActivationQuantizer"/> writes); extreme ones ±127.</summary>
    private static byte[] Q8_0Activations(Random random, int rows, int columns, bool extreme)
    {
        var nb = columns / 32;
        var bytes = new byte[rows * nb * Q8_0.BlockBytes];
        for (var blk = 0; blk < rows * nb; blk++)
        {
            var block = bytes.AsSpan(blk * Q8_0.BlockBytes, Q8_0.BlockBytes);
            BitConverter.TryWriteBytes(block, (Half)((random.NextDouble() * 2) - 1));
            for (var i = 2; i < Q8_0.BlockBytes; i++)
            {
                block[i] = extreme ? (byte)(random.Next(2) == 0 ? 0x81 : 0x7F) : (byte)random.Next(256);
                if (block[i] == 0x80)
                {
                    block[i] = 0x81;
                }
            }
        }

        return bytes;
    }
}
