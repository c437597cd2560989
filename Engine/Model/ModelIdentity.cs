using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Fathom.Gguf;
using Fathom.Engine.KvCache;

namespace Fathom.Engine.Model;

/// <summary>
/// Computes a model's <see cref="ModelFingerprint"/>: the shape that decides K/V (architecture, dimensions, RoPE,
/// KV dtype, block size), the tensor layout, and samples of every tensor's bytes (its first and last 4 KiB), so
/// that two fine-tunes of one architecture differ without reading gigabytes at load.
/// </summary>
public static class ModelIdentity
{
    private const int SampleBytes = 4096;

    /// <summary>Version of the engine's KV payload layout; bump when <see cref="IKvBlockStorage"/>'s layout changes.</summary>
    public const int KvLayoutVersion = 1;

    /// <summary>
    /// The fingerprint of <paramref name="file"/> with shape <paramref name="hp"/>, KV blocks of <paramref name="blockSize"/>
    /// tokens held as <paramref name="kvDataType"/>: an f16 and an f32 engine never share a block.
    /// </summary>
    public static ModelFingerprint Fingerprint(GgufFile file, LlamaHyperParameters hp, int blockSize, KvCacheDataType kvDataType = KvCacheDataType.F32)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(hp);
        var hash = new XxHash128();
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"kv-layout={KvLayoutVersion};kv-dtype={KvCacheDataTypes.ToName(kvDataType)};block={blockSize};");
        text.Append(CultureInfo.InvariantCulture, $"arch={hp.Architecture};embd={hp.EmbeddingLength};layers={hp.LayerCount};heads={hp.HeadCount};kv-heads={hp.KvHeadCount};head-dim={hp.HeadDimension};");
        text.Append(CultureInfo.InvariantCulture, $"rope={hp.RopeMode},{hp.RopeDimensionCount},{hp.RopeFrequencyBase:R},{hp.RopeFrequencyScale:R},{hp.Llama3Scaling};eps={hp.RmsNormEpsilon:R};qkv-bias={hp.HasQkvBias};");
        foreach (var t in file.Tensors)
        {
            text.Append(CultureInfo.InvariantCulture, $"{t.Name}:{t.Type}:{t.ShapeText}:{t.Offset};");
        }

        hash.Append(Encoding.UTF8.GetBytes(text.ToString()));
        foreach (var t in file.Tensors)
        {
            var bytes = file.GetTensorBytes(t);
            hash.Append(bytes[..Math.Min(bytes.Length, SampleBytes)]);
            hash.Append(bytes[Math.Max(0, bytes.Length - SampleBytes)..]);
        }

        return new ModelFingerprint(hash.GetCurrentHashAsUInt128());
    }

    /// <summary>
    /// The fingerprint of the model in <paramref name="source"/>: for a GGUF file run as stored, the same as
    /// <see cref="Fingerprint(GgufFile, LlamaHyperParameters, int, KvCacheDataType)"/>; otherwise from the tensors' names, types, shapes,
    /// files and byte samples, and the quantization applied at load (which changes K/V).
    /// </summary>
    internal static ModelFingerprint Fingerprint(ModelTensorSource source, LlamaHyperParameters hp, int blockSize, WeightQuantization quantization, KvCacheDataType kvDataType = KvCacheDataType.F32)
    {
        if (source.Gguf is { } file && quantization == WeightQuantization.None)
        {
            return Fingerprint(file, hp, blockSize, kvDataType);
        }

        var hash = new XxHash128();
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"kv-layout={KvLayoutVersion};kv-dtype={KvCacheDataTypes.ToName(kvDataType)};block={blockSize};quantize={WeightQuantizations.ToName(quantization)};");
        text.Append(CultureInfo.InvariantCulture, $"arch={hp.Architecture};embd={hp.EmbeddingLength};layers={hp.LayerCount};heads={hp.HeadCount};kv-heads={hp.KvHeadCount};head-dim={hp.HeadDimension};");
        text.Append(CultureInfo.InvariantCulture, $"rope={hp.RopeMode},{hp.RopeDimensionCount},{hp.RopeFrequencyBase:R},{hp.RopeFrequencyScale:R},{hp.Llama3Scaling};eps={hp.RmsNormEpsilon:R};qkv-bias={hp.HasQkvBias};");
        foreach (var t in source.Tensors)
        {
            text.Append(CultureInfo.InvariantCulture, $"{t.Name}:{t.Type}:{string.Join(',', t.Dimensions)}:{System.IO.Path.GetFileName(t.FilePath)};");
        }

        if (source.QuantizationIdentity is { } quantized)
        {
            text.Append(CultureInfo.InvariantCulture, $"checkpoint-quantization={quantized};");
        }

        hash.Append(Encoding.UTF8.GetBytes(text.ToString()));
        foreach (var t in source.Tensors)
        {
            unsafe
            {
                var size = (int)Math.Min(t.ByteSize, SampleBytes);
                hash.Append(new ReadOnlySpan<byte>(t.Data, size));
                hash.Append(new ReadOnlySpan<byte>(t.Data + t.ByteSize - size, size));
            }
        }

        return new ModelFingerprint(hash.GetCurrentHashAsUInt128());
    }
}
