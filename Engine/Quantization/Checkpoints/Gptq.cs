namespace Fathom.Engine.Quantization.Checkpoints;

/// <summary>
/// The GPTQ layout (AutoGPTQ / GPTQModel, 4-bit) of one linear layer, in → out features: <c>qweight</c> I32
/// [in/8, out] packs eight input rows per word (nibble p = row 8r + p); <c>qzeros</c> I32 [groups, out/8] packs eight
/// output columns per word in order; <c>scales</c> F16 [groups, out]; <c>g_idx</c> I32 [in] gives each input row's
/// group (i/G unless <c>desc_act</c>). Weight[o, i] = (q[i, o] − (zstored[g, o] + offset))·s[g, o] with g = g_idx[i]
/// and offset 1 in the original (<c>gptq</c>) format, 0 in <c>gptq_v2</c>.
/// </summary>
public static class Gptq
{
    /// <summary>
    /// Quantizes f32 weights [out, in] as GPTQ's round-to-nearest quantizer does (no Hessian update) and packs the
    /// published tensors <c>PREFIX.qweight</c>, <c>.qzeros</c>, <c>.scales</c>, <c>.g_idx</c>. With
    /// <paramref name="actOrder"/> (a permutation of the inputs, as <c>desc_act</c> derives from the Hessian), group
    /// k holds inputs actOrder[kG .. kG+G) and <c>g_idx</c> records that.
    /// </summary>
    public static CheckpointTensor[] Quantize(string prefix, ReadOnlySpan<float> weight, int outFeatures, int inFeatures, int groupSize, bool symmetric, int zeroOffset, int[]? actOrder = null)
    {
        var g = groupSize == -1 ? inFeatures : groupSize;
        if (outFeatures % 8 != 0 || inFeatures % 8 != 0 || inFeatures % g != 0)
        {
            throw new QuantizedCheckpointException(prefix + ".qweight", "shape", $"[{inFeatures}, {outFeatures}] does not pack into groups of {g} and words of 8");
        }

        var groups = inFeatures / g;
        var gIdx = new int[inFeatures];
        for (var k = 0; k < inFeatures; k++)
        {
            gIdx[actOrder?[k] ?? k] = k / g;
        }

        var members = new List<int>[groups];
        for (var k = 0; k < groups; k++)
        {
            members[k] = [];
        }

        for (var i = 0; i < inFeatures; i++)
        {
            members[gIdx[i]].Add(i);
        }

        var qweight = new byte[(long)inFeatures * outFeatures / 2];
        var qzeros = new byte[(long)groups * outFeatures / 2];
        var scales = new byte[(long)groups * outFeatures * 2];
        var values = new float[g];
        for (var o = 0; o < outFeatures; o++)
        {
            for (var k = 0; k < groups; k++)
            {
                for (var j = 0; j < g; j++)
                {
                    values[j] = weight[(o * inFeatures) + members[k][j]];
                }

                float s;
                int z;
                if (symmetric)
                {
                    (s, z) = (Int4Rounding.Symmetric(values), 8);
                }
                else
                {
                    // The original format cannot store a zero point of 0 (it stores z − 1 in a nibble).
                    (s, z) = Int4Rounding.Asymmetric(values, minZero: zeroOffset);
                }

                BitConverter.TryWriteBytes(scales.AsSpan(((k * outFeatures) + o) * 2), BitConverter.HalfToUInt16Bits((Half)s));
                SetNibble(qzeros, ((long)k * outFeatures) + o, (z - zeroOffset) & 0xF);
                for (var j = 0; j < g; j++)
                {
                    var i = members[k][j];
                    // qweight [in/8, out]: word (i/8, o), nibble i%8.
                    SetNibble(qweight, ((((long)(i >> 3) * outFeatures) + o) << 3) + (i & 7), Int4Rounding.Quant(values[j], s, z));
                }
            }
        }

        var gIdxBytes = new byte[inFeatures * 4];
        Buffer.BlockCopy(gIdx, 0, gIdxBytes, 0, gIdxBytes.Length);
        return
        [
            new(prefix + ".qweight", "I32", [inFeatures / 8, outFeatures], qweight),
            new(prefix + ".qzeros", "I32", [groups, outFeatures / 8], qzeros),
            new(prefix + ".scales", "F16", [groups, outFeatures], scales),
            new(prefix + ".g_idx", "I32", [inFeatures], gIdxBytes),
        ];
    }

    /// <summary>The published formula, straight from the tensors (the oracle): weights [out, in].</summary>
    public static float[] Dequantize(Func<string, CheckpointTensor?> find, string prefix, int outFeatures, int inFeatures, int groupSize, int zeroOffset)
    {
        var t = Read(find, prefix, outFeatures, inFeatures, groupSize);
        var w = new float[(long)outFeatures * inFeatures];
        for (var o = 0; o < outFeatures; o++)
        {
            for (var i = 0; i < inFeatures; i++)
            {
                var g = t.GIdx[i];
                var s = (float)BitConverter.UInt16BitsToHalf(PublishedTensor.Half(t.Scales.Bytes, ((long)g * outFeatures) + o));
                var z = Nibble(t.QZeros.Bytes, ((long)g * outFeatures) + o) + zeroOffset;
                w[((long)o * inFeatures) + i] = (Weight(t.QWeight.Bytes, i, o, outFeatures) - z) * s;
            }
        }

        return w;
    }

    /// <summary>
    /// Repacks into <see cref="Int4ZeroPoint"/> rows. When <c>g_idx</c> is not i/G the inputs are stored sorted by
    /// group (stably) and the returned column order maps them back; every group must then hold a multiple of 32 inputs.
    /// </summary>
    public static (byte[] Data, int[]? ColumnOrder) Repack(Func<string, CheckpointTensor?> find, string prefix, int outFeatures, int inFeatures, int groupSize, int zeroOffset)
    {
        var t = Read(find, prefix, outFeatures, inFeatures, groupSize);
        var g = groupSize == -1 ? inFeatures : groupSize;
        var order = Enumerable.Range(0, inFeatures).ToArray();
        var sorted = true;
        for (var i = 0; i < inFeatures; i++)
        {
            sorted &= t.GIdx[i] == i / g;
        }

        if (!sorted)
        {
            order = [.. order.OrderBy(i => t.GIdx[i])]; // stable
            for (var b = 0; b < inFeatures; b += Int4ZeroPoint.BlockSize)
            {
                if (t.GIdx[order[b]] != t.GIdx[order[b + Int4ZeroPoint.BlockSize - 1]])
                {
                    throw new QuantizedCheckpointException(prefix + ".g_idx", "values", $"group {t.GIdx[order[b]]} holds a number of inputs that is not a multiple of {Int4ZeroPoint.BlockSize}, so its scale cannot be kept per {Int4ZeroPoint.BlockSize}-input block");
                }
            }
        }

        var rowBytes = Int4ZeroPoint.RowBytes(inFeatures);
        var data = PublishedTensor.Pinned(rowBytes * outFeatures);
        var qw = t.QWeight.Bytes;
        for (var o = 0; o < outFeatures; o++)
        {
            var row = data.AsSpan((int)(o * rowBytes), (int)rowBytes);
            for (var b = 0; b < inFeatures / Int4ZeroPoint.BlockSize; b++)
            {
                var first = order[b * Int4ZeroPoint.BlockSize];
                var group = t.GIdx[first];
                var block = row.Slice(b * Int4ZeroPoint.BlockBytes, Int4ZeroPoint.BlockBytes);
                var s = PublishedTensor.Half(t.Scales.Bytes, ((long)group * outFeatures) + o);
                block[0] = (byte)s;
                block[1] = (byte)(s >> 8);
                block[2] = (byte)(Nibble(t.QZeros.Bytes, ((long)group * outFeatures) + o) + zeroOffset);
                block[3] = 0;
                for (var j = 0; j < 16; j++)
                {
                    var lo = Weight(qw, order[(b * Int4ZeroPoint.BlockSize) + j], o, outFeatures);
                    var hi = Weight(qw, order[(b * Int4ZeroPoint.BlockSize) + j + 16], o, outFeatures);
                    block[Int4ZeroPoint.QsOffset + j] = (byte)(lo | (hi << 4));
                }
            }
        }

        return (data, sorted ? null : order);
    }

    private sealed record Tensors(CheckpointTensor QWeight, CheckpointTensor QZeros, CheckpointTensor Scales, int[] GIdx);

    private static Tensors Read(Func<string, CheckpointTensor?> find, string prefix, int outFeatures, int inFeatures, int groupSize)
    {
        var g = groupSize == -1 ? inFeatures : groupSize;
        if (outFeatures <= 0 || outFeatures % 8 != 0 || inFeatures <= 0 || inFeatures % Int4ZeroPoint.BlockSize != 0)
        {
            throw new QuantizedCheckpointException(prefix + ".qweight", "shape", $"[{inFeatures}, {outFeatures}] features: outputs must be a multiple of 8 and inputs of {Int4ZeroPoint.BlockSize}");
        }

        if (g <= 0 || g % Int4ZeroPoint.BlockSize != 0 || inFeatures % g != 0)
        {
            throw new QuantizedCheckpointException(prefix + ".qweight", "group_size", $"group size {groupSize} does not divide {inFeatures} input features into groups of a multiple of {Int4ZeroPoint.BlockSize}");
        }

        var groups = inFeatures / g;
        var qweight = PublishedTensor.Require(find, prefix + ".qweight");
        var qzeros = PublishedTensor.Require(find, prefix + ".qzeros");
        var scales = PublishedTensor.Require(find, prefix + ".scales");
        PublishedTensor.Expect(qweight, "I32", inFeatures / 8, outFeatures);
        PublishedTensor.Expect(qzeros, "I32", groups, outFeatures / 8);
        PublishedTensor.Expect(scales, "F16", groups, outFeatures);
        var gIdx = new int[inFeatures];
        if (find(prefix + ".g_idx") is { } gIdxTensor)
        {
            PublishedTensor.Expect(gIdxTensor, "I32", inFeatures);
            for (var i = 0; i < inFeatures; i++)
            {
                gIdx[i] = (int)PublishedTensor.Word(gIdxTensor.Bytes, i);
                if ((uint)gIdx[i] >= (uint)groups)
                {
                    throw new QuantizedCheckpointException(gIdxTensor.Name, "values", $"g_idx[{i}] = {gIdx[i]} is outside the {groups} groups");
                }
            }
        }
        else
        {
            for (var i = 0; i < inFeatures; i++)
            {
                gIdx[i] = i / g;
            }
        }

        return new(qweight, qzeros, scales, gIdx);
    }

    private static int Weight(ReadOnlySpan<byte> qweight, int i, int o, int outFeatures) =>
        (int)(PublishedTensor.Word(qweight, ((long)(i >> 3) * outFeatures) + o) >> (4 * (i & 7))) & 0xF;

    // Element e of a sequentially packed I32 tensor (nibble e%8 of word e/8).
    private static int Nibble(ReadOnlySpan<byte> packed, long e) => (int)(PublishedTensor.Word(packed, e >> 3) >> (int)(4 * (e & 7))) & 0xF;

    private static void SetNibble(byte[] packed, long e, int value)
    {
        var shift = (int)(4 * (e & 7));
        var word = (int)((e >> 3) * 4);
        var current = BitConverter.ToUInt32(packed, word);
        BitConverter.TryWriteBytes(packed.AsSpan(word), (current & ~(0xFu << shift)) | ((uint)value << shift));
    }
}
