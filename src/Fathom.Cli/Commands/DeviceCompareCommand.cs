using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Fathom.Engine.Model;

namespace Fathom.Cli.Commands;

/// <summary>
/// <c>fathom device-compare --model FILE --backend cuda</c>: the same model on the CPU backend and on a device,
/// fed the same prompt (300 tokens by default, so decode attention runs split-K) and then their own greedy tokens:
/// are the greedy tokens equal, and how close are the logits (‖device − cpu‖ / ‖cpu‖ per step). One JSON line with
/// <c>--json</c>; exit 1 when the logits differ by more than <c>--tolerance</c> or a token differs.
/// </summary>
internal static class DeviceCompareCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The GGUF model file.", Required = true };
        var backend = new Option<string>("--backend") { Description = "The device backend: cuda or ilgpu-cpu.", DefaultValueFactory = _ => "cuda" };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length (made-up token ids).", DefaultValueFactory = _ => 300 };
        var tokens = new Option<int>("--tokens") { Description = "Greedy tokens generated after the prompt.", DefaultValueFactory = _ => 16 };
        var tolerance = new Option<double>("--tolerance") { Description = "Largest relative logit error accepted.", DefaultValueFactory = _ => 2e-2 };
        var json = new Option<bool>("--json") { Description = "One JSON object." };
        var command = new Command("device-compare", "Compare a device backend's greedy tokens and logits with the CPU backend's.") { model, backend, promptTokens, tokens, tolerance, json };
        command.SetAction(r => Run(r.GetRequiredValue(model), r.GetValue(backend)!, r.GetValue(promptTokens), r.GetValue(tokens), r.GetValue(tolerance), r.GetValue(json),
            r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return command;
    }

    internal static int Run(string path, string backendName, int promptTokens, int tokens, double tolerance, bool json, TextWriter output, TextWriter error)
    {
        if (!ComputeBackendKinds.TryParse(backendName, out var kind))
        {
            error.WriteLine($"fathom device-compare: unknown backend '{backendName}' ({string.Join(", ", ComputeBackendKinds.AllNames)})");
            return ModelCommandSupport.ExitFailure;
        }

        if (promptTokens < 1 || tokens < 0)
        {
            error.WriteLine("fathom device-compare: --prompt-tokens must be at least 1 and --tokens at least 0");
            return ModelCommandSupport.ExitFailure;
        }

        try
        {
            var blocks = ((promptTokens + tokens) / 16) + 1;
            var table = Enumerable.Range(0, blocks).ToArray();
            using var cpu = LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.Cpu, KvBlockCount = blocks });
            using var device = LlamaModel.Load(path, new ModelLoadOptions { Backend = kind, KvBlockCount = blocks });
            var vocab = cpu.HyperParameters.VocabularySize;
            var prompt = Enumerable.Range(0, promptTokens).Select(i => 1 + ((i * 131) % (vocab - 1))).ToArray();
            float[] cpuLogits = new float[vocab], deviceLogits = new float[vocab];
            var clock = Stopwatch.StartNew();
            cpu.Forward(ForwardBatch.ForSequence(prompt, 0, table), cpuLogits);
            var cpuPrefill = clock.Elapsed.TotalSeconds;
            clock.Restart();
            device.Forward(ForwardBatch.ForSequence(prompt, 0, table), deviceLogits);
            var devicePrefill = clock.Elapsed.TotalSeconds;
            var prefillError = RelativeError(deviceLogits, cpuLogits);
            var maxError = prefillError;
            var divergence = -1;
            var generated = new List<int>();
            for (var step = 0; step < tokens; step++)
            {
                int a = cpu.ArgMax(cpuLogits), b = device.ArgMax(deviceLogits);
                if (a != b)
                {
                    divergence = step;
                    break;
                }

                generated.Add(a);
                cpu.Forward(ForwardBatch.ForSequence([a], promptTokens + step, table), cpuLogits);
                device.Forward(ForwardBatch.ForSequence([a], promptTokens + step, table), deviceLogits);
                maxError = Math.Max(maxError, RelativeError(deviceLogits, cpuLogits));
            }

            var pass = divergence < 0 && maxError <= tolerance;
            var result = new Dictionary<string, object>
            {
                ["model"] = Path.GetFileNameWithoutExtension(path),
                ["backend"] = device.BackendName,
                ["prompt_tokens"] = promptTokens,
                ["tokens"] = tokens,
                ["tokens_equal"] = divergence < 0,
                ["first_divergence"] = divergence,
                ["prefill_rel_logit_error"] = Math.Round(prefillError, 6),
                ["max_rel_logit_error"] = Math.Round(maxError, 6),
                ["cpu_prefill_s"] = Math.Round(cpuPrefill, 3),
                ["device_prefill_s"] = Math.Round(devicePrefill, 3),
                ["pass"] = pass,
            };
            output.WriteLine(json ? JsonSerializer.Serialize(result) : string.Join("  ", result.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}={kv.Value}"))));
            return pass ? 0 : 1;
        }
        catch (Exception e) when (ModelCommandSupport.IsUserError(e))
        {
            return ModelCommandSupport.Fail(error, "device-compare", e);
        }
    }

    // ‖actual − expected‖ / ‖expected‖ in double.
    private static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double difference = 0, norm = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            double d = actual[i] - expected[i];
            difference += d * d;
            norm += (double)expected[i] * expected[i];
        }

        return Math.Sqrt(difference / Math.Max(norm, double.Epsilon));
    }
}
