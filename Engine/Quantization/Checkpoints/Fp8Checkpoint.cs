namespace Fathom.Engine.Quantization.Checkpoints;

/// <summary>
/// FP8 e4m3 linear layers as <c>compressed-tensors</c> (<c>float-quantized</c>), FBGEMM FP8 and vLLM's <c>fp8</c>
/// store them: <c>weight</c> F8_E4M3 [out, in] and <c>weight_scale</c> (F32, BF16 or F16) of shape [], [1]
/// (per tensor), [out] or [out, 1] (per channel). Weight[o, i] = e4m3(q[o, i])·scale[o or 0]. Activation scales
/// (<c>input_scale</c>, <c>input_scale_ub</c>) are not needed: the engine multiplies f32 activations.
/// </summary>
public static class Fp8Checkpoint
{
    /// <summary>
    /// Quantizes f32 weights [out, in] as the published quantizers do: scale = max|w|/448 per channel (or for the
    /// whole tensor), q = e4m3(clamp(w/scale, ±448)); returns <c>PREFIX.weight</c> and <c>PREFIX.weight_scale</c> (F32,
    /// [out, 1] per channel, [1] per tensor).
    /// </summary>
    public static CheckpointTensor[] Quantize(string prefix, ReadOnlySpan<float> weight, int outFeatures, int inFeatures, bool perChannel)
    {
        var scales = Scales(weight, outFeatures, inFeatures, perChannel);
        var q = new byte[(long)outFeatures * inFeatures];
        for (var o = 0; o < outFeatures; o++)
        {
            var s = scales[perChannel ? o : 0];
            for (var i = 0; i < inFeatures; i++)
            {
                q[((long)o * inFeatures) + i] = Fp8E4M3.FromSingle(weight[(o * inFeatures) + i] / s);
            }
        }

        var scaleBytes = new byte[scales.Length * 4];
        Buffer.BlockCopy(scales, 0, scaleBytes, 0, scaleBytes.Length);
        return
        [
            new(prefix + ".weight", "F8_E4M3", [outFeatures, inFeatures], q),
            new(prefix + ".weight_scale", "F32", perChannel ? [outFeatures, 1] : [1], scaleBytes),
        ];
    }

    /// <summary>The published formula, straight from the tensors (the oracle): weights [out, in].</summary>
    public static float[] Dequantize(Func<string, CheckpointTensor?> find, string prefix, int outFeatures, int inFeatures)
    {
        var (weight, scale) = Read(find, prefix, outFeatures, inFeatures);
        var perChannel = scale.ElementCount == outFeatures && outFeatures > 1;
        var w = new float[(long)outFeatures * inFeatures];
        var q = weight.Bytes;
        for (var o = 0; o < outFeatures; o++)
        {
            var s = PublishedTensor.Float(scale, perChannel ? o : 0);
            for (var i = 0; i < inFeatures; i++)
            {
                w[((long)o * inFeatures) + i] = Fp8E4M3.ToSingle(q[(o * inFeatures) + i]) * s;
            }
        }

        return w;
    }

    /// <summary>Repacks into <see cref="Fp8Rows"/> rows; rejects the NaN codes, which no quantizer writes.</summary>
    public static byte[] Repack(Func<string, CheckpointTensor?> find, string prefix, int outFeatures, int inFeatures)
    {
        var (weight, scale) = Read(find, prefix, outFeatures, inFeatures);
        var perChannel = scale.ElementCount == outFeatures && outFeatures > 1;
        var rowBytes = Fp8Rows.RowBytes(inFeatures);
        var data = PublishedTensor.Pinned(rowBytes * outFeatures);
        var q = weight.Bytes;
        for (var o = 0; o < outFeatures; o++)
        {
            var s = PublishedTensor.Float(scale, perChannel ? o : 0);
            if (!float.IsFinite(s))
            {
                throw new QuantizedCheckpointException(scale.Name, "values", $"scale {(perChannel ? o : 0)} is {s}");
            }

            var values = q.Slice(o * inFeatures, inFeatures);
            var nan = values.IndexOfAny((byte)0x7F, (byte)0xFF);
            if (nan >= 0)
            {
                throw new QuantizedCheckpointException(weight.Name, "values", $"element [{o}, {nan}] is an FP8 NaN code (0x{values[nan]:X2})");
            }

            Fp8Rows.WriteRow(s, values, data.AsSpan((int)(o * rowBytes), (int)rowBytes));
        }

        return data;
    }

    private static (CheckpointTensor Weight, CheckpointTensor Scale) Read(Func<string, CheckpointTensor?> find, string prefix, int outFeatures, int inFeatures)
    {
        var weight = PublishedTensor.Require(find, prefix + ".weight");
        PublishedTensor.Expect(weight, "F8_E4M3", outFeatures, inFeatures);
        var scale = PublishedTensor.Require(find, prefix + ".weight_scale");
        if (scale.DType is not ("F32" or "BF16" or "F16"))
        {
            throw new QuantizedCheckpointException(scale.Name, "dtype", $"is {scale.DType}, expected F32, BF16 or F16");
        }

        var shape = scale.Shape;
        var perTensor = shape.Count == 0 || (shape.Count == 1 && shape[0] == 1) || (shape.Count == 2 && shape[0] == 1 && shape[1] == 1);
        var perChannel = (shape.Count == 1 && shape[0] == outFeatures) || (shape.Count == 2 && shape[0] == outFeatures && shape[1] == 1);
        if (!perTensor && !perChannel)
        {
            throw new QuantizedCheckpointException(scale.Name, "shape", $"is {scale.ShapeText}; expected [] or [1] (per tensor) or [{outFeatures}] or [{outFeatures}, 1] (per channel); block-wise scales are not supported");
        }

        PublishedTensor.ExpectShape(scale, [.. shape]);
        return (weight, scale);
    }

    private static float[] Scales(ReadOnlySpan<float> weight, int outFeatures, int inFeatures, bool perChannel)
    {
        var scales = new float[perChannel ? outFeatures : 1];
        for (var o = 0; o < outFeatures; o++)
        {
            var row = weight.Slice(o * inFeatures, inFeatures);
            var amax = 0f;
            foreach (var x in row)
            {
                amax = Math.Max(amax, MathF.Abs(x));
            }

            var k = perChannel ? o : 0;
            scales[k] = Math.Max(scales[k], amax);
        }

        for (var k = 0; k < scales.Length; k++)
        {
            scales[k] = scales[k] > 0 ? scales[k] / Fp8E4M3.MaxFinite : 1f;
        }

        return scales;
    }
}
