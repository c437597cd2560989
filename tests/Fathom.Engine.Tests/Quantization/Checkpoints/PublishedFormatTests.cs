using System.Buffers.Binary;
using Fathom.Engine.Backends;
using Fathom.Engine.Quantization;
using Fathom.Engine.Quantization.Checkpoints;

namespace Fathom.Engine.Tests.Quantization.Checkpoints;

/// <summary>
/// The published layouts (AWQ GEMM, GPTQ, FP8): hand-packed words decode as their formats say, the writers round-trip
/// through the published formula, and the engine's repacked rows decode to exactly the published formula's values.
/// </summary>
public sealed unsafe class PublishedFormatTests
{
    private const string Prefix = "model.layers.0.mlp.up_proj";

    internal static Func<string, CheckpointTensor?> Lookup(IEnumerable<CheckpointTensor> tensors)
    {
        var map = tensors.ToDictionary(t => t.Name);
        return name => map.GetValueOrDefault(name);
    }

    internal static float[] Weights(int outFeatures, int inFeatures, int seed)
    {
        var random = new Random(seed);
        var w = new float[outFeatures * inFeatures];
        for (var i = 0; i < w.Length; i++)
        {
            // A few outliers per row, as real weights have.
            w[i] = (float)((random.NextDouble() * 2) - 1) * (random.Next(50) == 0 ? 4f : 0.5f);
        }

        return w;
    }

    /// <summary>The repacked rows decoded (through any column order) must equal the published formula bit for bit.</summary>
    private static void AssertRepackEqualsFormula(RepackedWeight repacked, float[] formula, int outFeatures, int inFeatures)
    {
        fixed (byte* p = repacked.Data)
        {
            var w = new WeightMatrix("test", repacked.Type, p, inFeatures, outFeatures, columnOrder: repacked.ColumnOrder);
            var row = new float[inFeatures];
            for (var o = 0; o < outFeatures; o++)
            {
                RowDecoder.Decode(w, o, row);
                Assert.Equal(formula.AsSpan(o * inFeatures, inFeatures).ToArray(), row);
            }
        }
    }

    [Fact]
    public void Awq_packs_eight_columns_per_word_in_autoawq_order()
    {
        // One group of 32 inputs, 8 outputs; input row 0 has q[0, c] = c, zero points 0, scales 1.
        var qweight = new byte[32 * 4];
        BinaryPrimitives.WriteUInt32LittleEndian(qweight, 0x75316420u); // nibble p holds column [0, 2, 4, 6, 1, 3, 5, 7][p]
        var scales = new byte[8 * 2];
        for (var o = 0; o < 8; o++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(scales.AsSpan(o * 2), BitConverter.HalfToUInt16Bits((Half)1));
        }

        var find = Lookup([
            new(Prefix + ".qweight", "I32", [32, 1], qweight),
            new(Prefix + ".qzeros", "I32", [1, 1], new byte[4]),
            new(Prefix + ".scales", "F16", [1, 8], scales)]);
        var w = AwqGemm.Dequantize(find, Prefix, 8, 32, 32);
        for (var o = 0; o < 8; o++)
        {
            Assert.Equal(o, w[o * 32]);
        }

        AssertRepackEqualsFormula(new(CheckpointTypes.Int4ZeroPoint, AwqGemm.Repack(find, Prefix, 8, 32, 32), null), w, 8, 32);
    }

    [Fact]
    public void Gptq_packs_eight_inputs_per_word_and_adds_one_to_v1_zero_points()
    {
        // 32 inputs, 8 outputs: q[i, 0] = i % 8 in the first word of each 8-input run; stored zero 7 → 8 (v1), 7 (v2).
        var qweight = new byte[4 * 8 * 4];
        for (var r = 0; r < 4; r++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(qweight.AsSpan(r * 8 * 4), 0x76543210u);
        }

        var qzeros = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(qzeros, 0x77777777u);
        var scales = new byte[8 * 2];
        for (var o = 0; o < 8; o++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(scales.AsSpan(o * 2), BitConverter.HalfToUInt16Bits((Half)0.5));
        }

        var find = Lookup([
            new(Prefix + ".qweight", "I32", [4, 8], qweight),
            new(Prefix + ".qzeros", "I32", [1, 1], qzeros),
            new(Prefix + ".scales", "F16", [1, 8], scales)]);
        var v1 = Gptq.Dequantize(find, Prefix, 8, 32, 32, zeroOffset: 1);
        var v2 = Gptq.Dequantize(find, Prefix, 8, 32, 32, zeroOffset: 0);
        for (var i = 0; i < 32; i++)
        {
            Assert.Equal(((i % 8) - 8) * 0.5f, v1[i]);
            Assert.Equal(((i % 8) - 7) * 0.5f, v2[i]);
            Assert.Equal(-4f, v1[32 + i]); // output 1: all quants 0
        }

        var (data, order) = Gptq.Repack(find, Prefix, 8, 32, 32, zeroOffset: 1);
        Assert.Null(order);
        AssertRepackEqualsFormula(new(CheckpointTypes.Int4ZeroPoint, data, order), v1, 8, 32);
    }

    [Theory]
    [InlineData(128)]
    [InlineData(64)]
    [InlineData(-1)]
    public void Awq_writer_round_trips_through_the_published_formula_and_the_engine_rows(int groupSize)
    {
        const int Out = 48, In = 256;
        var source = Weights(Out, In, 11);
        var group = groupSize == -1 ? In : groupSize;
        var find = Lookup(AwqGemm.Quantize(Prefix, source, Out, In, group));
        var checkpoint = new QuantizedCheckpoint(new CheckpointQuantization(CheckpointQuantizationMethod.Awq, 4, groupSize, false, false, 0, []));
        var formula = checkpoint.Dequantize(Prefix, In, Out, find)!;
        AssertClose(source, formula, Out, In, group, 1f);
        AssertRepackEqualsFormula(checkpoint.Repack(Prefix, In, Out, find)!, formula, Out, In);
    }

    [Theory]
    [InlineData(true, 1, false)]
    [InlineData(false, 1, false)]
    [InlineData(false, 0, false)]
    [InlineData(true, 1, true)]
    [InlineData(false, 0, true)]
    public void Gptq_writer_round_trips_sym_asym_and_desc_act(bool symmetric, int zeroOffset, bool descAct)
    {
        const int Out = 40, In = 256, Group = 64;
        var source = Weights(Out, In, 12);
        var actOrder = descAct ? [.. Enumerable.Range(0, In).OrderBy(_ => Random.Shared.Next())] : (int[]?)null;
        var tensors = Gptq.Quantize(Prefix, source, Out, In, Group, symmetric, zeroOffset, actOrder);
        var find = Lookup(tensors);
        if (symmetric)
        {
            // sym: every stored zero is 8 − offset.
            var zeros = tensors.Single(t => t.Name.EndsWith(".qzeros", StringComparison.Ordinal)).Bytes;
            Assert.Equal((uint)(0x11111111 * (8 - zeroOffset)), BinaryPrimitives.ReadUInt32LittleEndian(zeros));
        }

        var checkpoint = new QuantizedCheckpoint(new CheckpointQuantization(CheckpointQuantizationMethod.Gptq, 4, Group, symmetric, descAct, zeroOffset, []));
        var formula = checkpoint.Dequantize(Prefix, In, Out, find)!;
        var repacked = checkpoint.Repack(Prefix, In, Out, find)!;
        Assert.Equal(descAct, repacked.ColumnOrder is not null);
        AssertRepackEqualsFormula(repacked, formula, Out, In);
        // Each weight is within half a step of its group's scale of the source.
        for (var o = 0; o < Out; o++)
        {
            for (var i = 0; i < In; i++)
            {
                Assert.True(Math.Abs(source[(o * In) + i] - formula[(o * In) + i]) <= 0.6f, $"[{o},{i}]");
            }
        }
    }

    [Theory]
    [InlineData(true, CheckpointQuantizationMethod.CompressedTensorsFp8)]
    [InlineData(false, CheckpointQuantizationMethod.CompressedTensorsFp8)]
    [InlineData(true, CheckpointQuantizationMethod.FbgemmFp8)]
    public void Fp8_writer_round_trips_per_channel_and_per_tensor(bool perChannel, CheckpointQuantizationMethod method)
    {
        const int Out = 24, In = 160;
        var source = Weights(Out, In, 13);
        var tensors = Fp8Checkpoint.Quantize(Prefix, source, Out, In, perChannel);
        Assert.Equal(perChannel ? [Out, 1L] : [1L], tensors[1].Shape);
        var find = Lookup(tensors);
        var checkpoint = new QuantizedCheckpoint(new CheckpointQuantization(method, 8, 0, true, false, 0, []));
        var formula = checkpoint.Dequantize(Prefix, In, Out, find)!;
        for (var i = 0; i < source.Length; i++)
        {
            // e4m3 keeps 4 significant bits: relative error ≤ 2^-4, plus the subnormal step near zero.
            Assert.True(Math.Abs(source[i] - formula[i]) <= (Math.Abs(source[i]) / 16) + (4f / 448 / 512), $"{i}: {source[i]} vs {formula[i]}");
        }

        AssertRepackEqualsFormula(checkpoint.Repack(Prefix, In, Out, find)!, formula, Out, In);
    }

    [Fact]
    public void Ignored_and_float_modules_are_left_to_the_float_loader()
    {
        var ct = new QuantizedCheckpoint(new CheckpointQuantization(CheckpointQuantizationMethod.CompressedTensorsFp8, 8, 0, true, false, 0, ["lm_head", "re:.*gate_proj$"]));
        var fp8 = Lookup(Fp8Checkpoint.Quantize("lm_head", Weights(8, 32, 1), 8, 32, true));
        Assert.Null(ct.Repack("lm_head", 32, 8, fp8));
        Assert.Null(ct.Repack("model.layers.3.mlp.gate_proj", 32, 8, fp8));
        var bf16 = Lookup([new("model.layers.0.mlp.up_proj.weight", "BF16", [8, 32], new byte[8 * 32 * 2])]);
        Assert.Null(ct.Repack("model.layers.0.mlp.up_proj", 32, 8, bf16));
        var awq = new QuantizedCheckpoint(new CheckpointQuantization(CheckpointQuantizationMethod.Awq, 4, 32, false, false, 0, []));
        Assert.Null(awq.Repack("model.layers.0.mlp.up_proj", 32, 8, bf16));
    }

    private static void AssertClose(float[] source, float[] formula, int outFeatures, int inFeatures, int group, float slack)
    {
        for (var o = 0; o < outFeatures; o++)
        {
            for (var g = 0; g < inFeatures / group; g++)
            {
                float min = 0, max = 0;
                for (var i = 0; i < group; i++)
                {
                    min = Math.Min(min, source[(o * inFeatures) + (g * group) + i]);
                    max = Math.Max(max, source[(o * inFeatures) + (g * group) + i]);
                }

                var step = (max - min) / 15;
                for (var i = 0; i < group; i++)
                {
                    var e = (o * inFeatures) + (g * group) + i;
                    Assert.True(Math.Abs(source[e] - formula[e]) <= (step * slack) + (step * 0.01f), $"[{o},{(g * group) + i}]: {source[e]} vs {formula[e]}");
                }
            }
        }
    }
}
