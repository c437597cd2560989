using Fathom.Planner.Formats;
using Fathom.Planner.Hardware;
using Fathom.Planner.Models;

namespace Fathom.Planner.Performance;

/// <summary>Memory, speed and latency of one model on one layout of one GPU type.</summary>
internal sealed class LayoutEvaluator(ModelShape shape, WeightBudget weights, KvCacheType kv, GpuSpec gpu, EfficiencyModel efficiency, PlanRequest request, CpuDecodeModel? cpu = null)
{
    internal const long GiB = 1L << 30;
    internal const long RuntimeReserveBytes = GiB;
    internal const long CommunicationReserveBytes = GiB / 2;
    internal const double FragmentationFraction = 0.03;
    internal const int PrefillChunkTokens = 2048;
    internal const int PageTokens = 16;
    private const int ActivationBytes = 2;

    public static IEnumerable<string> Assumptions() =>
    [
        $"engine reserve per GPU = {RuntimeReserveBytes / GiB} GiB runtime (CUDA context, GEMM workspaces) + {CommunicationReserveBytes / (double)GiB} GiB collective buffers when multi-GPU + {FragmentationFraction * 100:0}% of memory for allocator fragmentation",
        $"activations/workspace = one chunked-prefill batch of {PrefillChunkTokens} tokens (residual, normed input, q/k/v and SwiGLU gate/up at 16-bit, split by TP) + fp32 logits for each running sequence",
        $"KV cache is paged in blocks of {PageTokens} tokens; capacity counts sequences of the expected length (prompt + output), not the maximum context",
        "tensor parallelism splits every matrix (embedding and lm_head vocab-parallel); pipeline stages split layers evenly and the embedding/output sit on the end stages",
        "decode streams this GPU's weights once per step plus each sequence's KV cache at the average length prompt + output/2; step = max(memory time, compute time) + all-reduces",
        "prefill = max(prompt FLOPs / (TP x peak x compute fraction), weight read) + all-reduces of the prompt's activations; TTFT adds M/D/1 queueing of prefills at the planned load",
        "no fixed per-step overhead (kernel launches, sampling, host work) is modeled: engines that use CUDA graphs come close; for models under ~1B parameters the speeds are upper bounds",
        "per-user speed includes the stalls other users' prefills cause; aggregate = concurrency / (step + concurrency x prefill / output tokens)",
    ];

    public LayoutPlan Evaluate(int tp, int pp)
    {
        var gpus = tp * pp;
        var layersPerStage = (shape.Layers + pp - 1) / pp;
        var stageShare = (double)layersPerStage / shape.Layers;

        var blockBytes = weights.TotalBytes - weights.EmbeddingBytes - weights.OutputBytes;
        var endBytes = pp == 1 ? weights.EmbeddingBytes + weights.OutputBytes : Math.Max(weights.EmbeddingBytes, weights.OutputBytes);
        var weightsPerGpu = (long)Math.Ceiling((blockBytes * stageShare + endBytes) / tp);

        var reserve = RuntimeReserveBytes + (gpus > 1 ? CommunicationReserveBytes : 0) + (long)(gpu.MemoryBytes * FragmentationFraction);
        // (chunk, hidden) x2 residual/normed + (chunk, q + k + v) + (chunk, gate + up), sharded by TP; logits (seqs, vocab/tp) fp32.
        var activations = (long)PrefillChunkTokens * ActivationBytes * (2L * shape.HiddenSize + (shape.QueryWidth + 2 * shape.KvWidth + 2L * shape.FfnSize) / tp)
            + (long)request.Concurrency * shape.VocabSize / tp * 4;
        var kvPerTokenPerGpu = kv.Bytes(2L * layersPerStage * TensorParallelism.KvHeadsPerGpu(shape, tp) * shape.HeadDim);
        var kvSpace = gpu.MemoryBytes - weightsPerGpu - reserve - activations;

        var expectedTokens = RoundUp(Math.Min(request.Context, request.PromptTokens + request.OutputTokens), PageTokens);
        var fullTokens = RoundUp(request.Context, PageTokens);
        var maxSequences = kvSpace <= 0 ? 0 : (int)Math.Min(int.MaxValue, kvSpace / (expectedTokens * kvPerTokenPerGpu));
        var maxFull = kvSpace <= 0 ? 0 : (int)Math.Min(int.MaxValue, kvSpace / (fullTokens * kvPerTokenPerGpu));

        var concurrency = Math.Max(1, Math.Min(request.Concurrency, maxSequences));
        var microBatch = (concurrency + pp - 1) / pp;
        var averageContext = request.PromptTokens + request.OutputTokens / 2.0;
        var (stage, bound) = StageSeconds(microBatch, averageContext, tp, pp, layersPerStage, stageShare, kvPerTokenPerGpu);
        var cycle = pp * stage;

        var prefill = PrefillSeconds(request.PromptTokens, tp);
        var output = (double)request.OutputTokens;
        var aggregate = concurrency / (cycle + concurrency * prefill / output);
        var perUser = output / (output * cycle + (concurrency - 1) * prefill);
        var utilization = aggregate * prefill / output;
        double? ttft = utilization < 0.999 ? prefill + utilization * prefill / (2 * (1 - utilization)) : null;

        var fits = maxFull >= 1;
        var meets = fits && maxSequences >= request.Concurrency
            && (request.TargetTokSPerUser is null || perUser >= request.TargetTokSPerUser)
            && (request.TargetTtftS is null || (ttft is not null && ttft <= request.TargetTtftS));
        return new LayoutPlan(tp, pp, gpus, fits, new GpuMemory(gpu.MemoryBytes, weightsPerGpu, reserve, activations, kvSpace, kvPerTokenPerGpu),
            maxSequences, maxFull, concurrency, perUser, aggregate, cycle * 1000, bound, prefill, ttft, meets);
    }

    private (double Seconds, string Bound) StageSeconds(int batch, double context, int tp, int pp, int layers, double stageShare, long kvPerTokenPerGpu)
    {
        var peak = gpu.BandwidthGbS * 1e9;
        var weightSeconds = weights.DecodeReadBytes * stageShare / tp / (peak * efficiency.BandwidthFraction(weights.Kernel));
        var kvSeconds = batch * context * kvPerTokenPerGpu / (peak * efficiency.DenseBandwidthFraction);
        var flops = batch * (2.0 * shape.ComputeParameters * stageShare + 4.0 * layers * shape.QueryWidth * context) / tp;
        var computeSeconds = flops / (Tflops() * 1e12 * efficiency.ComputeFraction);
        var communication = 2.0 * layers * efficiency.AllReduceSeconds(gpu, tp, (double)batch * shape.HiddenSize * ActivationBytes)
            + (pp > 1 ? efficiency.CollectiveLaunchSeconds : 0);
        var memory = weightSeconds + kvSeconds;
        if (cpu is not null)
        {
            // A calibrated CPU: measured kernel rates per weight type replace the bandwidth-fraction roofline.
            var share = stageShare / tp;
            memory = cpu.StepSeconds(weights.DecodeReadBytesByStorage.ToDictionary(e => e.Key, e => (long)(e.Value * share)), batch * context * kvPerTokenPerGpu);
        }

        return (Math.Max(memory, computeSeconds) + communication, computeSeconds > memory ? "compute" : cpu is null ? "memory" : "cpu kernels");
    }

    internal double PrefillSeconds(int promptTokens, int tp)
    {
        var flops = 2.0 * shape.ComputeParameters * promptTokens + 2.0 * shape.Layers * shape.QueryWidth * promptTokens * (double)promptTokens;
        var compute = flops / tp / (Tflops() * 1e12 * efficiency.ComputeFraction);
        var read = weights.DecodeReadBytes / (double)tp / (gpu.BandwidthGbS * 1e9 * efficiency.BandwidthFraction(weights.Kernel));
        var communication = 2.0 * shape.Layers * efficiency.AllReduceSeconds(gpu, tp, (double)promptTokens * shape.HiddenSize * ActivationBytes);
        return Math.Max(compute, read) + communication;
    }

    private double Tflops() => weights.Compute == ComputePrecision.Fp8 && gpu.Fp8Tflops is { } fp8 ? fp8 : gpu.Bf16Tflops;

    private static long RoundUp(long value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
