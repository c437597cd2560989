using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Fathom.Engine.Backends.Ilgpu;
using Fathom.Engine.Model;

namespace Fathom.Cli.Commands;

/// <summary>
/// <c>fathom device-bench --model FILE --backend cuda</c>: the device's copy bandwidth, then greedy decode tokens/s
/// at several batch sizes (one token per sequence per step, argmax on the device) and the bandwidth utilisation
/// (weight bytes read per step — all but token_embd — × steps/s ÷ copy bandwidth). One JSON line per batch size with <c>--json</c>.
/// </summary>
internal static class DeviceBenchCommand
{
    private const int PromptTokens = 16;

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The GGUF model file, or a reference (hf.co/ORG/REPO:QUANT) pulled into the model store when missing.", Required = true };
        var backend = new Option<string>("--backend") { Description = "cuda, ilgpu-cpu, cpu, reference or auto.", DefaultValueFactory = _ => "cuda" };
        var batches = new Option<string>("--batches") { Description = "Comma-separated batch sizes.", DefaultValueFactory = _ => "1,8,32,64" };
        var steps = new Option<int>("--steps") { Description = "Decode steps timed per batch size.", DefaultValueFactory = _ => 32 };
        var json = new Option<bool>("--json") { Description = "One JSON object per line." };
        var command = new Command("device-bench", "Measure decode throughput and bandwidth utilisation on a device.") { model, backend, batches, steps, json };
        command.SetAction(r => Run(r.GetRequiredValue(model), r.GetValue(backend)!, r.GetValue(batches)!, r.GetValue(steps), r.GetValue(json),
            r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return command;
    }

    internal static int Run(string path, string backendName, string batchList, int steps, bool json, TextWriter output, TextWriter error)
    {
        if (!ComputeBackendKinds.TryParse(backendName, out var kind))
        {
            error.WriteLine($"fathom device-bench: unknown backend '{backendName}' ({string.Join(", ", ComputeBackendKinds.AllNames)})");
            return ModelCommandSupport.ExitFailure;
        }

        try
        {
            var sizes = batchList.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            var perSequenceBlocks = ((PromptTokens + steps + 1) / 16) + 1;
            path = ModelStoreSupport.Resolve(path, error);
            using var llama = LlamaModel.Load(path, new ModelLoadOptions { Backend = kind, KvBlockCount = sizes.Max() * perSequenceBlocks });
            var weightBytes = llama.StepWeightBytes; // token_embd is read one row per token, not in full
            var bandwidth = llama.BackendName is "cuda" or "ilgpu-cpu" ? DeviceBandwidth.MeasureCopyGigabytesPerSecond(kind, 1L << 30) : double.NaN;
            foreach (var batch in sizes)
            {
                var tokensPerSecond = Measure(llama, batch, perSequenceBlocks, steps);
                var utilisation = weightBytes * (tokensPerSecond / batch) / (bandwidth * 1e9);
                if (json)
                {
                    output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["backend"] = llama.BackendName,
                        ["batch"] = batch,
                        ["tok_s"] = Math.Round(tokensPerSecond, 2),
                        ["weight_gb"] = Math.Round(weightBytes / 1e9, 3),
                        ["copy_gb_s"] = double.IsNaN(bandwidth) ? 0 : Math.Round(bandwidth, 1),
                        ["bandwidth_utilisation"] = double.IsNaN(utilisation) ? 0 : Math.Round(utilisation, 3),
                    }));
                }
                else
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"batch {batch,3}: {tokensPerSecond,9:F1} tok/s  weights {weightBytes / 1e9:F2} GB  copy {bandwidth:F0} GB/s  utilisation {utilisation:P1}  backend {llama.BackendName}"));
                }
            }

            return 0;
        }
        catch (Exception e) when (ModelCommandSupport.IsUserError(e) || e is FormatException)
        {
            return ModelCommandSupport.Fail(error, "device-bench", e);
        }
    }

    /// <summary>Prefills <paramref name="batch"/> sequences, then times greedy decode steps of one token each.</summary>
    private static double Measure(LlamaModel llama, int batch, int perSequenceBlocks, int steps)
    {
        var tables = Enumerable.Range(0, batch).Select(s => Enumerable.Range(s * perSequenceBlocks, perSequenceBlocks).ToArray()).ToArray();
        var next = new int[batch];
        for (var s = 0; s < batch; s++)
        {
            var vocab = llama.HyperParameters.VocabularySize;
            var prompt = Enumerable.Range(0, PromptTokens).Select(i => 1 + (((i * 131) + (s * 17)) % (vocab - 1))).ToArray();
            next[s] = llama.ForwardGreedy(ForwardBatch.ForSequence(prompt, 0, tables[s]))[0];
        }

        var sequences = Enumerable.Range(0, batch).ToArray();
        var stopwatch = new Stopwatch();
        for (var step = 0; step <= steps; step++)
        {
            var positions = Enumerable.Repeat(PromptTokens + step, batch).ToArray();
            var forward = new ForwardBatch(next, positions, sequences, tables, sequences);
            if (step == 1)
            {
                stopwatch.Start(); // step 0 warms up
            }

            next = llama.ForwardGreedy(forward);
        }

        stopwatch.Stop();
        return (double)batch * steps / stopwatch.Elapsed.TotalSeconds;
    }
}
