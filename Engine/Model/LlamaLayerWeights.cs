using Fathom.Engine.Backends;

namespace Fathom.Engine.Model;

/// <summary>The tensors of one transformer block; matrices stay memory-mapped, norms and biases are small f32 copies.</summary>
internal sealed class LlamaLayerWeights
{
    public required float[] AttentionNorm { get; init; } // (n_embd)
    public required WeightMatrix Query { get; init; }    // (n_head * head_dim, n_embd)
    public required WeightMatrix Key { get; init; }      // (n_head_kv * head_dim, n_embd)
    public required WeightMatrix Value { get; init; }    // (n_head_kv * head_dim, n_embd)
    public float[]? QueryBias { get; init; }             // (n_head * head_dim)
    public float[]? KeyBias { get; init; }               // (n_head_kv * head_dim)
    public float[]? ValueBias { get; init; }             // (n_head_kv * head_dim)
    public required WeightMatrix Output { get; init; }   // (n_embd, n_head * head_dim)
    public required float[] FeedForwardNorm { get; init; } // (n_embd)
    public required WeightMatrix Gate { get; init; }     // (n_ff, n_embd)
    public required WeightMatrix Up { get; init; }       // (n_ff, n_embd)
    public required WeightMatrix Down { get; init; }     // (n_embd, n_ff)
}
