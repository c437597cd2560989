using Fathom.Engine.Model;
using ILGPU;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// Device activation buffers of a forward step, sized for a number of step tokens and, separately, of logit rows
/// (grown by replacing the whole set). A prefill step of 8,192 tokens asks for the logits of one row per
/// sequence, not of every token, and only the shard that holds the output matrix computes logits at all.
/// </summary>
internal sealed class DeviceScratch : IDisposable
{
    private readonly List<MemoryBuffer> _buffers = [];

    public DeviceScratch(Accelerator accelerator, LlamaHyperParameters hp, ScratchShape shape)
    {
        Shape = shape;
        MemoryBuffer1D<float, Stride1D.Dense> F(long length)
        {
            var buffer = accelerator.Allocate1D<float>(Math.Max(1, length));
            _buffers.Add(buffer);
            return buffer;
        }

        var lengths = Lengths(hp, shape);
        Residual = F(lengths.Residual);
        Normed = F(lengths.Residual);
        Query = F(lengths.Query);
        Key = F(lengths.Kv);
        Value = F(lengths.Kv);
        Attention = F(lengths.Query);
        AttentionPartial = F(lengths.AttentionPartial);
        AttentionStats = F(lengths.AttentionStats);
        Gate = shape.SeparateGateUp ? F(lengths.FeedForward) : null;
        Up = shape.SeparateGateUp ? F(lengths.FeedForward) : null;
        Hidden = F(lengths.FeedForward);
        LogitInput = shape.ComputesLogits ? F(lengths.LogitInput) : null;
        LogitNormed = shape.ComputesLogits ? F(lengths.LogitInput) : null;
        Logits = shape.ComputesLogits ? F(lengths.Logits) : null;
        Bytes = _buffers.Sum(b => b.LengthInBytes);
    }

    /// <summary>
    /// What a scratch set holds: <paramref name="Tokens"/> step tokens, <paramref name="LogitRows"/> logit rows
    /// (ignored unless <paramref name="ComputesLogits"/>), and separate gate/up buffers only for a model whose
    /// gate and up matrices cannot run as one fused SwiGLU launch.
    /// </summary>
    internal readonly record struct ScratchShape(int Tokens, int LogitRows, bool ComputesLogits, bool SeparateGateUp)
    {
        /// <summary>Whether a set of this shape serves a step of <paramref name="tokens"/> tokens and <paramref name="logitRows"/> logit rows.</summary>
        public bool Holds(int tokens, int logitRows) => tokens <= Tokens && (!ComputesLogits || logitRows <= LogitRows);
    }

    /// <summary>Bytes of device memory a set of <paramref name="shape"/> takes, without allocating it.</summary>
    public static long BytesFor(LlamaHyperParameters hp, ScratchShape shape)
    {
        var l = Lengths(hp, shape);
        long Floats(long length) => Math.Max(1, length);
        var total = (2 * Floats(l.Residual)) + (2 * Floats(l.Query)) + (2 * Floats(l.Kv)) + Floats(l.AttentionPartial) + Floats(l.AttentionStats) + Floats(l.FeedForward);
        if (shape.SeparateGateUp)
        {
            total += 2 * Floats(l.FeedForward);
        }

        if (shape.ComputesLogits)
        {
            total += (2 * Floats(l.LogitInput)) + Floats(l.Logits);
        }

        return total * sizeof(float);
    }

    public ScratchShape Shape { get; }

    /// <summary>Bytes of device memory this set holds.</summary>
    public long Bytes { get; }

    public MemoryBuffer1D<float, Stride1D.Dense> Residual { get; }    // (n_tokens, n_embd)
    public MemoryBuffer1D<float, Stride1D.Dense> Normed { get; }      // (n_tokens, n_embd)
    public MemoryBuffer1D<float, Stride1D.Dense> Query { get; }       // (n_tokens, n_head, head_dim)
    public MemoryBuffer1D<float, Stride1D.Dense> Key { get; }         // (n_tokens, n_head_kv, head_dim)
    public MemoryBuffer1D<float, Stride1D.Dense> Value { get; }       // (n_tokens, n_head_kv, head_dim)
    public MemoryBuffer1D<float, Stride1D.Dense> Attention { get; }   // (n_tokens, n_head, head_dim)
    public MemoryBuffer1D<float, Stride1D.Dense> AttentionPartial { get; } // (n_tokens ≤ split limit, n_head, max_splits, head_dim)
    public MemoryBuffer1D<float, Stride1D.Dense> AttentionStats { get; }   // (n_tokens ≤ split limit, n_head, max_splits, 2)
    public MemoryBuffer1D<float, Stride1D.Dense>? Gate { get; }       // (n_tokens, n_ff); only with separate gate/up
    public MemoryBuffer1D<float, Stride1D.Dense>? Up { get; }         // (n_tokens, n_ff); only with separate gate/up
    public MemoryBuffer1D<float, Stride1D.Dense> Hidden { get; }      // (n_tokens, n_ff)
    public MemoryBuffer1D<float, Stride1D.Dense>? LogitInput { get; }  // (n_logits, n_embd); only where logits are computed
    public MemoryBuffer1D<float, Stride1D.Dense>? LogitNormed { get; } // (n_logits, n_embd)
    public MemoryBuffer1D<float, Stride1D.Dense>? Logits { get; }      // (n_logits, vocab)

    public void Dispose()
    {
        foreach (var buffer in _buffers)
        {
            buffer.Dispose();
        }
    }

    private static (long Residual, long Query, long Kv, long AttentionPartial, long AttentionStats, long FeedForward, long LogitInput, long Logits) Lengths(LlamaHyperParameters hp, ScratchShape shape)
    {
        long tokens = shape.Tokens;
        long splitTokens = Math.Min(shape.Tokens, AttentionKernels.SplitTokenLimit);
        long rows = shape.LogitRows;
        return (
            tokens * hp.EmbeddingLength,
            tokens * hp.QueryLength,
            tokens * hp.KvLength,
            splitTokens * hp.QueryLength * AttentionKernels.MaxSplits,
            2L * splitTokens * hp.HeadCount * AttentionKernels.MaxSplits,
            tokens * hp.FeedForwardLength,
            rows * hp.EmbeddingLength,
            rows * hp.VocabularySize);
    }
}
