namespace Fathom.Engine.Model;

/// <summary>Activation buffers of a forward step, sized for a number of tokens and grown on demand.</summary>
internal sealed class ForwardScratch
{
    public ForwardScratch(LlamaHyperParameters hp, int tokens)
    {
        Capacity = tokens;
        var embd = hp.EmbeddingLength;
        Residual = new float[tokens * embd];
        Normed = new float[tokens * embd];
        Projected = new float[tokens * embd];
        Query = new float[tokens * hp.QueryLength];
        Key = new float[tokens * hp.KvLength];
        Value = new float[tokens * hp.KvLength];
        Attention = new float[tokens * hp.QueryLength];
        Gate = new float[tokens * hp.FeedForwardLength];
        Up = new float[tokens * hp.FeedForwardLength];
        Hidden = new float[tokens * hp.FeedForwardLength];
    }

    public int Capacity { get; }

    public float[] Residual { get; }  // (n_tokens, n_embd)
    public float[] Normed { get; }    // (n_tokens, n_embd)
    public float[] Projected { get; } // (n_tokens, n_embd)
    public float[] Query { get; }     // (n_tokens, n_head, head_dim)
    public float[] Key { get; }       // (n_tokens, n_head_kv, head_dim)
    public float[] Value { get; }     // (n_tokens, n_head_kv, head_dim)
    public float[] Attention { get; } // (n_tokens, n_head, head_dim)
    public float[] Gate { get; }      // (n_tokens, n_ff)
    public float[] Up { get; }        // (n_tokens, n_ff)
    public float[] Hidden { get; }    // (n_tokens, n_ff)
}
