using Fathom.Planner.Hardware;
using Fathom.Planner.Models;

namespace Fathom.Planner.Performance;

/// <summary>GPUs needed to fine-tune a model: full AdamW with ZeRO-3 sharding, LoRA, QLoRA.</summary>
internal static class FineTuningEstimator
{
    internal const int LoraRank = 16;
    private const int MaxGpus = 4096;
    // bf16 weights 2 + bf16 grads 2 + fp32 master 4 + Adam m 4 + v 4.
    private const int FullBytesPerParameter = 16;
    // Adapters train in fp32: weights, grads, m, v.
    private const int AdapterBytesPerParameter = 16;
    // NF4 4 bits + fp8 absmax per 64 values + fp32 second-level scale per 256 blocks (double quantization).
    private const double Nf4BitsPerParameter = 4 + 8.0 / 64 + 32.0 / (64 * 256);

    public static IEnumerable<string> Assumptions(int sequence) =>
    [
        $"fine-tuning: micro-batch 1 of {sequence} tokens per GPU, gradient checkpointing per layer, fp32 logits and their gradient, one layer's gathered parameters under ZeRO-3/FSDP",
        $"full fine-tuning: AdamW mixed precision = {FullBytesPerParameter} bytes/parameter (bf16 weights and grads, fp32 master, m, v), ZeRO-3 shards all of it across the GPUs",
        $"LoRA/QLoRA: rank {LoraRank} adapters on q, k, v, o, gate, up, down, trained in fp32 with AdamW ({AdapterBytesPerParameter} bytes/parameter); LoRA's frozen bf16 base is sharded (FSDP) across GPUs; QLoRA's base is NF4 with double quantization ({Nf4BitsPerParameter:0.###} bits/parameter) on block matrices, 16-bit embedding and lm_head",
    ];

    public static IReadOnlyList<FineTuningPlan> Estimate(ModelShape shape, GpuSpec gpu, int sequence)
    {
        var p = shape.Parameters;
        var adapters = (long)LoraRank * shape.Layers * (
            (shape.HiddenSize + shape.QueryWidth) * 2      // q, o
            + (shape.HiddenSize + shape.KvWidth) * 2       // k, v
            + (shape.HiddenSize + (long)shape.FfnSize) * 3); // gate, up, down
        var layerParameters = shape.LinearParametersPerLayer + shape.VectorParametersPerLayer;
        var activations = (long)shape.Layers * sequence * shape.HiddenSize * 2
            + (long)sequence * (4L * shape.HiddenSize + shape.QueryWidth + 2 * shape.KvWidth + 3L * shape.FfnSize) * 2 * 2
            + (long)sequence * shape.VocabSize * 4 * 2;
        var reserve = LayoutEvaluator.RuntimeReserveBytes + LayoutEvaluator.CommunicationReserveBytes + (long)(gpu.MemoryBytes * LayoutEvaluator.FragmentationFraction);
        var fixedPerGpu = activations + reserve + 2 * layerParameters * 2;

        var nf4Base = (long)(shape.Layers * shape.LinearParametersPerLayer * Nf4BitsPerParameter / 8)
            + (shape.EmbeddingParameters + (shape.TiedEmbeddings ? 0 : shape.EmbeddingParameters) + shape.Layers * shape.VectorParametersPerLayer) * 2;

        return
        [
            Plan("full-adamw-zero3", (long)FullBytesPerParameter * p, 0, fixedPerGpu, gpu,
                $"all {p:N0} parameters trained; {FullBytesPerParameter} B/parameter sharded by ZeRO-3"),
            Plan("lora", 2 * p + AdapterBytesPerParameter * adapters, 0, fixedPerGpu, gpu,
                $"frozen bf16 base sharded by FSDP + {adapters:N0} adapter parameters (rank {LoraRank})"),
            Plan("qlora", nf4Base + AdapterBytesPerParameter * adapters, 0, fixedPerGpu - 2 * layerParameters * 2 + 2 * layerParameters, gpu,
                $"NF4 base ({nf4Base / 1e9:0.0} GB) + {adapters:N0} adapter parameters (rank {LoraRank}); sharded across GPUs only when one is not enough (FSDP-QLoRA)"),
        ];
    }

    private static FineTuningPlan Plan(string method, long shardable, long replicated, long fixedPerGpu, GpuSpec gpu, string description)
    {
        for (var n = 1; n <= MaxGpus; n = n < gpu.MaxPerNode ? n + 1 : n + gpu.MaxPerNode)
        {
            var perGpu = (shardable + n - 1) / n + replicated + fixedPerGpu;
            if (perGpu <= gpu.MemoryBytes)
            {
                return new FineTuningPlan(method, shardable + replicated, perGpu, n, description);
            }
        }

        return new FineTuningPlan(method, shardable + replicated, shardable + replicated + fixedPerGpu, null, description + $"; does not fit in {MaxGpus} GPUs");
    }
}
