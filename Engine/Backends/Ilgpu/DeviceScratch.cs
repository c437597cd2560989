using Fathom.Engine.Model;
using ILGPU;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>Device activation buffers of a forward step, sized for a number of tokens (grown by replacing the whole set).</summary>
internal sealed class DeviceScratch : IDisposable
{
    private readonly List<MemoryBuffer> _buffers = [];

    public DeviceScratch(Accelerator accelerator, LlamaHyperParameters hp, int tokens)
    {
        Capacity = tokens;
        var embd = hp.EmbeddingLength;
        MemoryBuffer1D<float, Stride1D.Dense> F(long length)
        {
            var buffer = accelerator.Allocate1D<float>(Math.Max(1, length));
            _buffers.Add(buffer);
            return buffer;
        }

        Residual = F((long)tokens * embd);
        Normed = F((long)tokens * embd);
        Query = F((long)tokens * hp.QueryLength);
        Key = F((long)tokens * hp.KvLength);
        Value = F((long)tokens * hp.KvLength);
        Attention = F((long)tokens * hp.QueryLength);
        var splitTokens = Math.Min(tokens, AttentionKernels.SplitTokenLimit);
        AttentionPartial = F((long)splitTokens * hp.QueryLength * AttentionKernels.MaxSplits);
        AttentionStats = F(2L * splitTokens * hp.HeadCount * AttentionKernels.MaxSplits);
        Gate = F((long)tokens * hp.FeedForwardLength);
        Up = F((long)tokens * hp.FeedForwardLength);
        Hidden = F((long)tokens * hp.FeedForwardLength);
        LogitInput = F((long)tokens * embd);
        LogitNormed = F((long)tokens * embd);
        Logits = F((long)tokens * hp.VocabularySize);
    }

    public int Capacity { get; }

    public MemoryBuffer1D<float, Stride1D.Dense> Residual { get; }    // (n_tokens, n_embd)
    public MemoryBuffer1D<float, Stride1D.Dense> Normed { get; }      // (n_tokens, n_embd)
    public MemoryBuffer1D<float, Stride1D.Dense> Query { get; }       // (n_tokens, n_head, head_dim)
    public MemoryBuffer1D<float, Stride1D.Dense> Key { get; }         // (n_tokens, n_head_kv, head_dim)
    public MemoryBuffer1D<float, Stride1D.Dense> Value { get; }       // (n_tokens, n_head_kv, head_dim)
    public MemoryBuffer1D<float, Stride1D.Dense> Attention { get; }   // (n_tokens, n_head, head_dim)
    public MemoryBuffer1D<float, Stride1D.Dense> AttentionPartial { get; } // (n_tokens ≤ split limit, n_head, max_splits, head_dim)
    public MemoryBuffer1D<float, Stride1D.Dense> AttentionStats { get; }   // (n_tokens ≤ split limit, n_head, max_splits, 2)
    public MemoryBuffer1D<float, Stride1D.Dense> Gate { get; }        // (n_tokens, n_ff)
    public MemoryBuffer1D<float, Stride1D.Dense> Up { get; }          // (n_tokens, n_ff)
    public MemoryBuffer1D<float, Stride1D.Dense> Hidden { get; }      // (n_tokens, n_ff)
    public MemoryBuffer1D<float, Stride1D.Dense> LogitInput { get; }  // (n_logits, n_embd)
    public MemoryBuffer1D<float, Stride1D.Dense> LogitNormed { get; } // (n_logits, n_embd)
    public MemoryBuffer1D<float, Stride1D.Dense> Logits { get; }      // (n_logits, vocab)

    public void Dispose()
    {
        foreach (var buffer in _buffers)
        {
            buffer.Dispose();
        }
    }
}
