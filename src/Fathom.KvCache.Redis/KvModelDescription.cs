using System.Globalization;
using System.Text;

namespace Fathom.KvCache.Redis;

/// <summary>
/// The inputs of <see cref="KvModelFingerprint.Create"/>: what determines the bytes of a K/V block for a given token
/// prefix. The engine fills it from the GGUF metadata and its own KV storage choices.
/// </summary>
public sealed record KvModelDescription
{
    /// <summary>Architecture name from GGUF (<c>general.architecture</c>), e.g. <c>llama</c>.</summary>
    public required string Architecture { get; init; }

    /// <summary>Number of transformer layers (blocks).</summary>
    public required int LayerCount { get; init; }

    /// <summary>Embedding width (<c>n_embd</c>).</summary>
    public required int EmbeddingLength { get; init; }

    /// <summary>Attention (query) heads.</summary>
    public required int HeadCount { get; init; }

    /// <summary>Key/value heads (GQA).</summary>
    public required int KvHeadCount { get; init; }

    /// <summary>Per-head dimension.</summary>
    public required int HeadDimension { get; init; }

    /// <summary>RoPE frequency base.</summary>
    public required double RopeFrequencyBase { get; init; }

    /// <summary>RoPE scaling description (type and factors), empty when none.</summary>
    public string RopeScaling { get; init; } = "";

    /// <summary>Element type of the stored K/V.</summary>
    public required KvBlockDType KvDType { get; init; }

    /// <summary>Tokens per block.</summary>
    public required int BlockTokens { get; init; }

    /// <summary>
    /// A digest of the weights' tensor data layout (names, types, shapes, offsets) — or of the weights themselves —
    /// so that two different fine-tunes of one architecture never share blocks.
    /// </summary>
    public required string TensorLayoutDigest { get; init; }

    /// <summary>How the engine lays K and V out in the block payload (e.g. <c>layer,kv,token,head,dim</c>).</summary>
    public required string PayloadLayout { get; init; }

    /// <summary>The canonical text hashed into the fingerprint; field order and formatting are part of the format.</summary>
    public string ToCanonicalText()
    {
        var text = new StringBuilder("fathom-kv-fingerprint/v1\n");
        Append(text, "arch", Architecture);
        Append(text, "n_layer", LayerCount);
        Append(text, "n_embd", EmbeddingLength);
        Append(text, "n_head", HeadCount);
        Append(text, "n_head_kv", KvHeadCount);
        Append(text, "head_dim", HeadDimension);
        Append(text, "rope_base", RopeFrequencyBase.ToString("R", CultureInfo.InvariantCulture));
        Append(text, "rope_scaling", RopeScaling);
        Append(text, "kv_dtype", KvDType.ToString());
        Append(text, "block_tokens", BlockTokens);
        Append(text, "tensors", TensorLayoutDigest);
        Append(text, "payload_layout", PayloadLayout);
        return text.ToString();
    }

    private static void Append(StringBuilder text, string name, int value) =>
        Append(text, name, value.ToString(CultureInfo.InvariantCulture));

    private static void Append(StringBuilder text, string name, string value) =>
        text.Append(name).Append('=').Append(value.Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
}
