namespace Fathom.Planner.Formats;

/// <summary>What a weight tensor does; quantization recipes choose storage by role.</summary>
public enum TensorRole
{
    /// <summary>Token embedding (vocab × hidden); decode reads one row of it.</summary>
    Embedding,

    /// <summary>Output projection (lm_head).</summary>
    Output,

    /// <summary>Query projection.</summary>
    AttentionQuery,

    /// <summary>Key projection.</summary>
    AttentionKey,

    /// <summary>Value projection.</summary>
    AttentionValue,

    /// <summary>Attention output projection.</summary>
    AttentionOutput,

    /// <summary>SwiGLU gate projection.</summary>
    FfnGate,

    /// <summary>SwiGLU up projection.</summary>
    FfnUp,

    /// <summary>SwiGLU down projection.</summary>
    FfnDown,

    /// <summary>Norm weights and biases: vectors, never quantized.</summary>
    Vector,
}
