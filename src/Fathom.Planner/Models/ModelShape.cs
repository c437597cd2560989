namespace Fathom.Planner.Models;

/// <summary>
/// The shape of a Llama-family decoder (Llama 2/3, DeepSeek-R1-Distill-Llama, Qwen2.5): everything the
/// planner needs to count parameters, weight bytes and KV-cache bytes exactly.
/// </summary>
/// <param name="Name">A display name (preset id, config folder or GGUF file name).</param>
/// <param name="Layers">Transformer blocks (<c>num_hidden_layers</c>).</param>
/// <param name="HiddenSize">Residual width (<c>hidden_size</c>).</param>
/// <param name="Heads">Query heads (<c>num_attention_heads</c>).</param>
/// <param name="KvHeads">Key/value heads (<c>num_key_value_heads</c>); fewer than <paramref name="Heads"/> means GQA.</param>
/// <param name="HeadDim">Width of one head (<c>head_dim</c>).</param>
/// <param name="FfnSize">SwiGLU inner width (<c>intermediate_size</c>).</param>
/// <param name="VocabSize">Vocabulary rows of the embedding and output matrices.</param>
/// <param name="TiedEmbeddings">True when the output projection reuses the token embedding.</param>
/// <param name="AttentionBias">True when q/k/v projections carry biases (Qwen2).</param>
/// <param name="MaxContext">The longest context the model was trained or scaled for.</param>
public sealed record ModelShape(
    string Name,
    int Layers,
    int HiddenSize,
    int Heads,
    int KvHeads,
    int HeadDim,
    int FfnSize,
    int VocabSize,
    bool TiedEmbeddings,
    bool AttentionBias,
    int MaxContext)
{
    /// <summary>Width of the query projection's output: heads × head_dim.</summary>
    public long QueryWidth => (long)Heads * HeadDim;

    /// <summary>Width of the key (and of the value) projection's output: kv_heads × head_dim.</summary>
    public long KvWidth => (long)KvHeads * HeadDim;

    /// <summary>Parameters of the token-embedding matrix (vocab × hidden).</summary>
    public long EmbeddingParameters => (long)VocabSize * HiddenSize;

    /// <summary>Parameters of the matrices inside one block (q, k, v, o, gate, up, down) — what quantization touches.</summary>
    public long LinearParametersPerLayer =>
        HiddenSize * QueryWidth + 2 * HiddenSize * KvWidth + QueryWidth * HiddenSize + 3L * HiddenSize * FfnSize;

    /// <summary>Parameters of one block that are not matrices: the two RMSNorm weights and any q/k/v biases.</summary>
    public long VectorParametersPerLayer => 2L * HiddenSize + (AttentionBias ? QueryWidth + 2 * KvWidth : 0);

    /// <summary>All parameters: embedding, blocks, final norm and (unless tied) the output projection.</summary>
    public long Parameters =>
        EmbeddingParameters
        + Layers * (LinearParametersPerLayer + VectorParametersPerLayer)
        + HiddenSize
        + (TiedEmbeddings ? 0 : EmbeddingParameters);

    /// <summary>
    /// Parameters that take part in the matrix multiplications of one token's forward pass: all but the
    /// embedding lookup (which reads one row). With tied embeddings the matrix is still multiplied as the output.
    /// </summary>
    public long ComputeParameters => Layers * LinearParametersPerLayer + EmbeddingParameters;

    /// <summary>
    /// KV-cache bytes for one token: 2 (K and V) × layers × kv_heads × head_dim × bytes per element.
    /// </summary>
    public long KvBytesPerToken(KvCacheType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return type.Bytes(2L * Layers * KvWidth);
    }
}
