using System.Runtime.InteropServices;
using Fathom.Engine.Model;
using ILGPU;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// The forward step in phases — begin (embed), per layer the attention block and the feed-forward block, finish
/// (logits) — so that <see cref="IlgpuTensorParallel"/> can run the shards of one step in lockstep and all-reduce
/// between the phases. A single device runs them back to back (<see cref="Step"/>).
/// </summary>
internal sealed partial class IlgpuForward
{
    private AttentionKernels.BatchViews _stepViews;
    private AttentionKernels.RopeViews _stepRope;
    private int _stepTokens;
    private int _stepSplits;
    private FlashAttentionKernels.TileViews _stepFlash; // Count 0: the step runs the split-K / warp-per-row kernel
    private int _stepMaxLength;
    private ArrayView<int> _stepLogitRows;

    /// <summary>
    /// Tensor-parallel partial output of the last block run with <c>partial: true</c>. // (n_tokens, n_embd) f32;
    /// it aliases the normed-input buffer, which the next block's RMSNorm overwrites.
    /// </summary>
    internal ArrayView<float> PartialOutput => _scratch!.Normed.View.SubView(0, (long)_stepTokens * _hp.EmbeddingLength);

    /// <summary>This step's residual stream. // (n_tokens, n_embd) f32; the peer all-reduce adds the summed partials into it.</summary>
    internal ArrayView<float> ResidualStream => _scratch!.Residual.View.SubView(0, (long)_stepTokens * _hp.EmbeddingLength);

    /// <summary>Uploads the batch description and writes the token embeddings into the residual stream.</summary>
    internal void BeginStep(ForwardBatch batch)
    {
        Activate();
        var hp = _hp;
        var n = batch.Count;
        var m = batch.LogitTokenIndices.Length;
        if (_scratch is null || !_scratch.Shape.Holds(n, m))
        {
            var tokens = Math.Max(n, _scratch?.Shape.Tokens ?? 0);
            var rows = Math.Max(m, _scratch?.Shape.LogitRows ?? 0);
            _scratch?.Dispose();
            _scratch = null;
            _scratch = new DeviceScratch(_device.Accelerator, hp, new DeviceScratch.ScratchShape(tokens, rows, _computesLogits, _separateGateUp));
        }

        _stepTokens = n;
        _stepViews = UploadBatch(batch);
        var tokenIds = _tokens.Upload(batch.Tokens);
        _stepLogitRows = _computesLogits && m > 0 ? _logitRows.Upload(batch.LogitTokenIndices) : default; // uploaded now, before the layers are queued, so no copy waits on them
        var embedding = _weights.TokenEmbedding;
        _device.Elementwise.Embed(_matrices[embedding].View, (int)embedding.Type, embedding.RowBytes, tokenIds, n, hp.EmbeddingLength, _scratch.Residual.View); // (n, n_embd)
        _stepRope = new AttentionKernels.RopeViews(_rope.Dimensions, _rope.Mode == RopeMode.NeoX ? 1 : 0, _cos.View, _sin.View);
        _stepMaxLength = 0;
        foreach (var position in batch.Positions)
        {
            _stepMaxLength = Math.Max(_stepMaxLength, position + 1);
        }

        _stepSplits = _device.Attention.ChooseSplits(n, n * hp.HeadCount, _stepMaxLength);
        _stepFlash = _device.FlashAttention.PlanStep(batch.SequenceIndices, _stepSplits, hp.HeadCount, hp.KvHeadCount, hp.HeadDimension);
    }

    /// <summary>
    /// Layer <paramref name="l"/>'s attention: RMSNorm, Q/K/V, KV store, attention, output projection. With
    /// <paramref name="partial"/> the projection goes to <see cref="PartialOutput"/> (to be all-reduced) instead
    /// of being added to the residual stream.
    /// </summary>
    internal void AttentionBlock(int l, bool partial)
    {
        Activate();
        var hp = _hp;
        var n = _stepTokens;
        var s = _scratch!;
        var e = _device.Elementwise;
        var att = _device.Attention;
        var w = _weights.Layers[l];
        e.RmsNorm(s.Residual.View, n, hp.EmbeddingLength, _vectors[w.AttentionNorm].View, hp.RmsNormEpsilon, s.Normed.View); // (n, n_embd)
        if (w.Query.Type == w.Key.Type && w.Key.Type == w.Value.Type && InColumnOrder(w.Query, w.Key, w.Value))
        {
            // One launch: q (n, n_head * head_dim), k and v (n, n_head_kv * head_dim).
            _device.MatMul.MatMul3(
                s.Normed.View,
                n,
                new MatMulKernels.MatMulShape((int)w.Query.Type, w.Query.Columns, w.Query.Rows, w.Query.RowBytes),
                (_matrices[w.Query].View, w.Query.Rows, s.Query.View),
                (_matrices[w.Key].View, w.Key.Rows, s.Key.View),
                (_matrices[w.Value].View, w.Value.Rows, s.Value.View));
        }
        else
        {
            MatMul(s.Normed, n, w.Query, s.Query);   // (n, n_head * head_dim)
            MatMul(s.Normed, n, w.Key, s.Key);       // (n, n_head_kv * head_dim)
            MatMul(s.Normed, n, w.Value, s.Value);   // (n, n_head_kv * head_dim)
        }

        if (hp.HasQkvBias)
        {
            e.AddBias(s.Query.View, _vectors[w.QueryBias!].View, n);
            e.AddBias(s.Key.View, _vectors[w.KeyBias!].View, n);
            e.AddBias(s.Value.View, _vectors[w.ValueBias!].View, n);
        }

        var shape = new AttentionKernels.KvShape(n, hp.HeadCount, hp.KvHeadCount, hp.HeadDimension, BlockSize, (long)l * LayerElements, 1f / MathF.Sqrt(hp.HeadDimension));
        att.StoreKv(s.Key.View, s.Value.View, shape, _stepViews, KeyCache, ValueCache, _stepRope); // K rotated on the way in
        if (_stepFlash.Count > 0)
        {
            _device.FlashAttention.Attention(s.Query.View, shape, _stepViews, KeyCache, ValueCache, s.Attention.View, _stepFlash, _stepRope); // prefill: tiles of (tokens, GQA group)
        }
        else
        {
            att.Attention(s.Query.View, shape, _stepViews, KeyCache, ValueCache, s.Attention.View, _stepSplits, _stepMaxLength, s.AttentionPartial.View, s.AttentionStats.View, _stepRope); // (n, n_head, head_dim); Q rotated as read
        }

        if (partial)
        {
            MatMul(s.Attention, n, w.Output, s.Normed); // partial (n, n_embd) = attention · Wo_shardᵀ
        }
        else
        {
            MatMul(s.Attention, n, w.Output, s.Residual, MatMulKernels.Accumulate); // residual (n, n_embd) += attention · Woᵀ
        }
    }

    /// <summary>Layer <paramref name="l"/>'s feed-forward block (RMSNorm, SwiGLU, down projection); <paramref name="partial"/> as in <see cref="AttentionBlock"/>.</summary>
    internal void FeedForwardBlock(int l, bool partial)
    {
        Activate();
        var hp = _hp;
        var n = _stepTokens;
        var s = _scratch!;
        var e = _device.Elementwise;
        var w = _weights.Layers[l];
        e.RmsNorm(s.Residual.View, n, hp.EmbeddingLength, _vectors[w.FeedForwardNorm].View, hp.RmsNormEpsilon, s.Normed.View);
        if (FusesGateUp(w))
        {
            MatMul(s.Normed, n, w.Gate, s.Hidden, MatMulKernels.SwiGlu, w.Up); // (n, n_ff) = silu(x · Wgᵀ) ⊙ (x · Wuᵀ)
        }
        else
        {
            MatMul(s.Normed, n, w.Gate, s.Gate!); // (n, n_ff)
            MatMul(s.Normed, n, w.Up, s.Up!);     // (n, n_ff)
            e.SwiGlu(s.Gate!.View, s.Up!.View, n * hp.FeedForwardLength, s.Hidden.View);
        }

        if (partial)
        {
            MatMul(s.Hidden, n, w.Down, s.Normed); // partial (n, n_embd) = hidden · Wd_shardᵀ
        }
        else
        {
            MatMul(s.Hidden, n, w.Down, s.Residual, MatMulKernels.Accumulate); // residual (n, n_embd) += hidden · Wdᵀ
        }
    }

    /// <summary>Copies <see cref="PartialOutput"/> to the host. // (n_tokens, n_embd)</summary>
    internal void DownloadPartial(Span<float> destination)
    {
        Activate();
        HostCopy.ToHost(_device.Accelerator, PartialOutput, destination[..(int)PartialOutput.Length]);
    }

    /// <summary>
    /// Adds the all-reduced block output to the residual stream: residual += <paramref name="sum"/>. // (n_tokens, n_embd)
    /// The copy is queued, not waited for: <paramref name="sum"/> is page-locked (it cannot move), and the caller
    /// rewrites it only after this device's next <see cref="DownloadPartial"/>, which the stream orders after it.
    /// </summary>
    internal void AddToResidual(PageLockedArray1D<float> sum)
    {
        Activate();
        var view = PartialOutput; // free until the next RMSNorm: reused as the upload target
        view.CopyFromCPU(ref MemoryMarshal.GetReference(sum.Span), view.Length);
        _device.Elementwise.Add(_scratch!.Residual.View, view, (int)view.Length);
    }

    /// <summary>Computes the logits of the batch's logit rows from the residual stream (or just synchronizes when there are none).</summary>
    internal void FinishStep(ForwardBatch batch)
    {
        Activate();
        var m = batch.LogitTokenIndices.Length;
        if (m == 0 || !_computesLogits)
        {
            _device.Accelerator.Synchronize();
            return;
        }

        var s = _scratch!;
        var e = _device.Elementwise;
        var embd = _hp.EmbeddingLength;
        e.GatherRows(s.Residual.View, _stepLogitRows, m, embd, s.LogitInput!.View); // (m, n_embd)
        e.RmsNorm(s.LogitInput.View, m, embd, _vectors[_weights.OutputNorm].View, _hp.RmsNormEpsilon, s.LogitNormed!.View);
        MatMul(s.LogitNormed, m, _weights.Output, s.Logits!); // (m, vocab)
    }

    private void Step(ForwardBatch batch)
    {
        BeginStep(batch);
        for (var l = 0; l < _hp.LayerCount; l++)
        {
            AttentionBlock(l, partial: false);
            FeedForwardBlock(l, partial: false);
        }

        FinishStep(batch);
    }

    // Each device has its own CUDA context, only one is current per thread, and ILGPU launches kernels into the
    // current one (it binds only to allocate and synchronize): so every entry point makes this device current first.
    private void Activate() => _device.Accelerator.Bind();
}
