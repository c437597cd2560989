namespace Fathom.Engine.Quantization.Checkpoints;

/// <summary>
/// AutoAWQ's GEMM layout of one linear layer (in → out features, <c>G</c> = group size): <c>qweight</c> I32
/// [in, out/8] and <c>qzeros</c> I32 [in/G, out/8] hold eight 4-bit values per word in the order
/// [0, 2, 4, 6, 1, 3, 5, 7] (nibble p, bits 4p..4p+3, holds column 8c + order[p]); <c>scales</c> F16 [in/G, out].
/// Weight[o, i] = (q[i, o] − z[i/G, o])·s[i/G, o].
/// </summary>
public static class AwqGemm
{
    // Nibble that holds column 8c + j (the inverse of AutoAWQ's pack order [0, 2, 4, 6, 1, 3, 5, 7]).
    private static readonly int[] NibbleOfColumn = [0, 4, 1, 5, 2, 6, 3, 7];

    /// <summary>
    /// Quantizes f32 weights [out, in] (row-major, as <c>nn.Linear</c> stores them) as AutoAWQ's round-to-nearest
    /// does (asymmetric: s = max(max − min, 1e-5)/15 in f16, z = clamp(−round(min/s), 0, 15), q = clamp(round(w/s) + z, 0, 15))
    /// and packs the published tensors <c>PREFIX.qweight</c>, <c>PREFIX.qzeros</c>, <c>PREFIX.scales</c>.
    /// </summary>
    public static CheckpointTensor[] Quantize(string prefix, ReadOnlySpan<float> weight, int outFeatures, int inFeatures, int groupSize)
    {
        Check(outFeatures, inFeatures, groupSize, prefix);
        var groups = inFeatures / groupSize;
        var qweight = new byte[(long)inFeatures * outFeatures / 2];
        var qzeros = new byte[(long)groups * outFeatures / 2];
        var scales = new byte[(long)groups * outFeatures * 2];
        for (var o = 0; o < outFeatures; o++)
        {
            for (var g = 0; g < groups; g++)
            {
                var group = weight.Slice((o * inFeatures) + (g * groupSize), groupSize);
                var (s, z) = Int4Rounding.Asymmetric(group, minZero: 0);
                BitConverter.TryWriteBytes(scales.AsSpan(((g * outFeatures) + o) * 2), BitConverter.HalfToUInt16Bits((Half)s));
                SetNibble(qzeros, ((long)g * outFeatures) + o, z);
                for (var j = 0; j < groupSize; j++)
                {
                    SetNibble(qweight, ((long)((g * groupSize) + j) * outFeatures) + o, Int4Rounding.Quant(group[j], s, z));
                }
            }
        }

        return
        [
            new(prefix + ".qweight", "I32", [inFeatures, outFeatures / 8], qweight),
            new(prefix + ".qzeros", "I32", [groups, outFeatures / 8], qzeros),
            new(prefix + ".scales", "F16", [groups, outFeatures], scales),
        ];
    }

    /// <summary>The published formula, straight from the tensors (the oracle): weights [out, in].</summary>
    public static float[] Dequantize(Func<string, CheckpointTensor?> find, string prefix, int outFeatures, int inFeatures, int groupSize)
    {
        var (qweight, qzeros, scales) = Read(find, prefix, outFeatures, inFeatures, groupSize);
        var w = new float[(long)outFeatures * inFeatures];
        for (var o = 0; o < outFeatures; o++)
        {
            for (var i = 0; i < inFeatures; i++)
            {
                var g = i / groupSize;
                var s = (float)BitConverter.UInt16BitsToHalf(PublishedTensor.Half(scales.Bytes, ((long)g * outFeatures) + o));
                w[((long)o * inFeatures) + i] = (Nibble(qweight.Bytes, ((long)i * outFeatures) + o) - Nibble(qzeros.Bytes, ((long)g * outFeatures) + o)) * s;
            }
        }

        return w;
    }

    /// <summary>Repacks into <see cref="Int4ZeroPoint"/> rows (one per output feature), keeping every value.</summary>
    public static byte[] Repack(Func<string, CheckpointTensor?> find, string prefix, int outFeatures, int inFeatures, int groupSize)
    {
        var (qweight, qzeros, scales) = Read(find, prefix, outFeatures, inFeatures, groupSize);
        var rowBytes = Int4ZeroPoint.RowBytes(inFeatures);
        var data = PublishedTensor.Pinned(rowBytes * outFeatures);
        var blocksPerGroup = groupSize / Int4ZeroPoint.BlockSize;
        var qw = qweight.Bytes;
        var qz = qzeros.Bytes;
        var sc = scales.Bytes;
        for (var o = 0; o < outFeatures; o++)
        {
            var row = data.AsSpan((int)(o * rowBytes), (int)rowBytes);
            for (var b = 0; b < inFeatures / Int4ZeroPoint.BlockSize; b++)
            {
                var g = b / blocksPerGroup;
                var block = row.Slice(b * Int4ZeroPoint.BlockBytes, Int4ZeroPoint.BlockBytes);
                var s = PublishedTensor.Half(sc, ((long)g * outFeatures) + o);
                block[0] = (byte)s;
                block[1] = (byte)(s >> 8);
                block[2] = (byte)Nibble(qz, ((long)g * outFeatures) + o);
                block[3] = 0;
                for (var j = 0; j < 16; j++)
                {
                    var i = (b * Int4ZeroPoint.BlockSize) + j;
                    var lo = Nibble(qw, ((long)i * outFeatures) + o);
                    var hi = Nibble(qw, ((long)(i + 16) * outFeatures) + o);
                    block[Int4ZeroPoint.QsOffset + j] = (byte)(lo | (hi << 4));
                }
            }
        }

        return data;
    }

    private static (CheckpointTensor QWeight, CheckpointTensor QZeros, CheckpointTensor Scales) Read(Func<string, CheckpointTensor?> find, string prefix, int outFeatures, int inFeatures, int groupSize)
    {
        Check(outFeatures, inFeatures, groupSize, prefix);
        var qweight = PublishedTensor.Require(find, prefix + ".qweight");
        var qzeros = PublishedTensor.Require(find, prefix + ".qzeros");
        var scales = PublishedTensor.Require(find, prefix + ".scales");
        PublishedTensor.Expect(qweight, "I32", inFeatures, outFeatures / 8);
        PublishedTensor.Expect(qzeros, "I32", inFeatures / groupSize, outFeatures / 8);
        PublishedTensor.Expect(scales, "F16", inFeatures / groupSize, outFeatures);
        return (qweight, qzeros, scales);
    }

    private static void Check(int outFeatures, int inFeatures, int groupSize, string prefix)
    {
        if (outFeatures <= 0 || outFeatures % 8 != 0)
        {
            throw new QuantizedCheckpointException(prefix + ".qweight", "shape", $"{outFeatures} output features is not a positive multiple of 8 (eight nibbles per I32)");
        }

        if (inFeatures <= 0 || groupSize <= 0 || inFeatures % groupSize != 0 || groupSize % Int4ZeroPoint.BlockSize != 0)
        {
            throw new QuantizedCheckpointException(prefix + ".qweight", "group_size", $"group size {groupSize} does not divide {inFeatures} input features into groups of a multiple of {Int4ZeroPoint.BlockSize}");
        }
    }

    // Value of logical element e of an [rows, out] matrix packed eight columns per word in AWQ order.
    private static int Nibble(ReadOnlySpan<byte> packed, long e) =>
        (int)(PublishedTensor.Word(packed, e >> 3) >> (4 * NibbleOfColumn[(int)(e & 7)])) & 0xF;

    private static void SetNibble(byte[] packed, long e, int value)
    {
        var shift = 4 * NibbleOfColumn[(int)(e & 7)];
        var word = (e >> 3) * 4;
        var current = BitConverter.ToUInt32(packed, (int)word);
        current = (current & ~(0xFu << shift)) | ((uint)value << shift);
        BitConverter.TryWriteBytes(packed.AsSpan((int)word), current);
    }
}
