using System.Diagnostics;
using System.Globalization;
using LLama;
using LLama.Batched;
using LLama.Common;
using LLama.Native;

/// <summary>
/// llama.cpp's own batched generation (LLamaSharp's <see cref="BatchedExecutor"/>) as the rival of the engine service
/// under concurrency: N conversations with distinct P-token prompts are prefilled in one batch, then decoded together,
/// greedy, G tokens each (no stop on EOS). Prints one line: aggregate output tok/s over the whole run (prefill
/// included, as <c>fathom bench serve</c> counts it), the time to the first token of every conversation, and the
/// mean time per decode step. Usage: <c>llama-batched --model FILE --threads T --concurrency N --prompt P --gen G</c>.
/// </summary>
internal static class LlamaCppBatched
{
    public static async Task RunAsync(Dictionary<string, string> options)
    {
        var path = options["model"];
        var threads = int.Parse(options.GetValueOrDefault("threads", "2"), CultureInfo.InvariantCulture);
        var concurrency = int.Parse(options.GetValueOrDefault("concurrency", "8"), CultureInfo.InvariantCulture);
        var promptTokens = int.Parse(options.GetValueOrDefault("prompt", "128"), CultureInfo.InvariantCulture);
        var genTokens = int.Parse(options.GetValueOrDefault("gen", "64"), CultureInfo.InvariantCulture);
        NativeLogConfig.llama_log_set((level, message) => { });
        var context = (uint)(concurrency * (promptTokens + genTokens + 16));
        var parameters = new ModelParams(path)
        {
            ContextSize = context,
            BatchSize = context,
            UBatchSize = 512,
            SeqMax = (uint)concurrency,
            Threads = threads,
            BatchThreads = threads,
            GpuLayerCount = 0,
        };
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var executor = new BatchedExecutor(weights, parameters, null);
        var random = new Random(concurrency);
        var conversations = Enumerable.Range(0, concurrency).Select(_ =>
        {
            var conversation = executor.Create();
            var prompt = Enumerable.Range(0, promptTokens).Select(_ => (LLamaToken)random.Next(3, 259)).ToArray();
            conversation.Prompt(prompt.AsSpan(), allLogits: false);
            return conversation;
        }).ToList();

        var clock = Stopwatch.StartNew();
        Check(await executor.Infer());
        var ttft = clock.Elapsed.TotalSeconds;
        for (var g = 1; g < genTokens; g++)
        {
            foreach (var conversation in conversations)
            {
                conversation.Prompt(ArgMax(conversation.Sample()));
            }

            Check(await executor.Infer());
        }

        var wall = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"llama.cpp batched: concurrency {concurrency}, threads {threads}, prompt {promptTokens} + gen {genTokens}: {concurrency * genTokens / wall:F1} output tok/s, TTFT {ttft * 1000:F0} ms, step {(wall - ttft) / (genTokens - 1) * 1000:F1} ms, {wall:F2} s"));
        conversations.ForEach(c => c.Dispose());
    }

    private static LLamaToken ArgMax(Span<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
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
