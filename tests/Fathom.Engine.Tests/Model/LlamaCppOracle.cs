using LLama;
using LLama.Common;
using LLama.Native;

namespace Fathom.Engine.Tests.Model;

/// <summary>
/// llama.cpp (through LLamaSharp) on the same file: one thread, f32 KV cache, flash attention off, so its
/// numbers are deterministic and comparable with ours.
/// </summary>
internal sealed class LlamaCppOracle : IDisposable
{
    private static readonly Lock InitLock = new();
    private readonly LLamaWeights _weights;
    private readonly ModelParams _params;

    public LlamaCppOracle(string path, int contextSize = 256, int threads = 1)
    {
        lock (InitLock)
        {
            NativeLogConfig.llama_log_set((level, message) => { });
        }

        _params = new ModelParams(path)
        {
            ContextSize = (uint)contextSize,
            BatchSize = (uint)contextSize,
            UBatchSize = (uint)contextSize,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
            TypeK = GGMLType.GGML_TYPE_F32,
            TypeV = GGMLType.GGML_TYPE_F32,
            FlashAttention = false,
        };
        _weights = LLamaWeights.LoadFromFile(_params);
    }

    public int VocabularySize => _weights.Vocab.Count;

    /// <summary>Logits of the last prompt position, from a fresh context.</summary>
    public float[] LastLogits(IReadOnlyList<int> prompt)
    {
        using var context = _weights.CreateContext(_params);
        var batch = new LLamaBatch();
        var tokens = prompt.Select(t => (LLamaToken)t).ToArray();
        var index = batch.AddRange(tokens, 0, LLamaSeqId.Zero, true);
        Check(context.Decode(batch));
        return context.NativeHandle.GetLogitsIth(index).ToArray();
    }

    /// <summary>
    /// Logits of the last prompt position with the prompt fed one token per decode call: llama.cpp's mat-vec path for
    /// every matmul, where <see cref="LastLogits"/> takes its batched (GEMM) path.
    /// </summary>
    public float[] LastLogitsTokenByToken(IReadOnlyList<int> prompt)
    {
        using var context = _weights.CreateContext(_params);
        var batch = new LLamaBatch();
        var index = 0;
        for (var i = 0; i < prompt.Count; i++)
        {
            batch.Clear();
            index = batch.Add(prompt[i], i, LLamaSeqId.Zero, true);
            Check(context.Decode(batch));
        }

        return context.NativeHandle.GetLogitsIth(index).ToArray();
    }

    /// <summary>Greedy continuation of <paramref name="prompt"/>: <paramref name="count"/> tokens, argmax of llama.cpp's logits.</summary>
    public int[] Greedy(IReadOnlyList<int> prompt, int count)
    {
        using var context = _weights.CreateContext(_params);
        var batch = new LLamaBatch();
        var tokens = prompt.Select(t => (LLamaToken)t).ToArray();
        var index = batch.AddRange(tokens, 0, LLamaSeqId.Zero, true);
        Check(context.Decode(batch));
        var result = new int[count];
        var position = prompt.Count;
        for (var i = 0; i < count; i++)
        {
            var logits = context.NativeHandle.GetLogitsIth(index);
            var next = ArgMax(logits);
            result[i] = next;
            batch.Clear();
            index = batch.Add(next, position++, LLamaSeqId.Zero, true);
            Check(context.Decode(batch));
        }

        return result;
    }

    public void Dispose() => _weights.Dispose();

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama.cpp decode failed: {result}");
        }
    }
}
