using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Fathom.Cli.Measurement;
using Fathom.Engine.KvCache;
using Fathom.Engine.Diagnostics;
using Fathom.Engine.Model;
using Fathom.Engine.Quantization;
using Fathom.Planner.Performance;

namespace Fathom.Cli.Commands;

/// <summary>
/// <c>fathom bench --model FILE</c>: prefill and decode tokens per second, best of several runs; with
/// <c>--calibration-out FILE</c> it also probes the CPU and writes a calibration record for <c>fathom plan</c>.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The GGUF model file, a Hugging Face model directory (config.json + safetensors), or a reference (hf.co/ORG/REPO:QUANT) pulled into the model store when missing.", Required = true };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length of the prefill step.", DefaultValueFactory = _ => 128 };
        var genTokens = new Option<int>("--gen-tokens") { Description = "Tokens decoded one at a time.", DefaultValueFactory = _ => 64 };
        var runs = new Option<int>("--runs") { Description = "Runs; the best is reported.", DefaultValueFactory = _ => 3 };
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: physical cores)." };
        var backend = ModelCommandSupport.BackendOption();
        var kvType = ModelCommandSupport.KvCacheDtypeOption();
        var quantize = ModelCommandSupport.QuantizeOption();
        var json = new Option<bool>("--json") { Description = "Print {\"prefill_tok_s\":..,\"decode_tok_s\":..,\"cpu_model\":..,\"kernel_tier\":..}." };
        var calibrationOut = new Option<string?>("--calibration-out") { Description = "Also probe the CPU's kernel rates and bandwidth and write a calibration record (fathom.calibration/1) for fathom plan --calibration." };
        var device = new Option<string?>("--device") { Description = "Device id written into the calibration record (default: cpu-<hostname>)." };
        var probeMib = new Option<int>("--probe-mib") { Description = "MiB each kernel-rate probe streams per pass (keep well above the L3).", DefaultValueFactory = _ => 1024 };
        var command = new Command("bench", "Measure prefill and decode speed on a model.") { model, promptTokens, genTokens, runs, threads, backend, kvType, quantize, json, calibrationOut, device, probeMib };
        command.SetAction(r => Run(
            r.GetRequiredValue(model), r.GetValue(promptTokens), r.GetValue(genTokens), r.GetValue(runs), r.GetValue(threads),
            r.GetValue(backend) ?? "auto", r.GetValue(json), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error,
            new CalibrationOptions(r.GetValue(calibrationOut), r.GetValue(device), r.GetValue(probeMib)), r.GetValue(kvType) ?? "auto", r.GetValue(quantize)));
        return command;
    }

    internal static int Run(string path, int promptTokens, int genTokens, int runs, int? threads, string backend, bool json,
        TextWriter output, TextWriter error, CalibrationOptions? calibration = null, string kvCacheDtype = "auto", string? quantize = null)
    {
        try
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(promptTokens);
            ArgumentOutOfRangeException.ThrowIfNegative(genTokens);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(runs);
            if (calibration?.OutputPath is not null && genTokens == 0)
            {
                throw new ArgumentException("--calibration-out needs a decode measurement (--gen-tokens > 0)");
            }

            var blocks = ((promptTokens + genTokens) / 16) + 2;
            double prefill, decode;
            string backendName;
            KvCacheDataType kvType;
            using (var llama = ModelCommandSupport.Load(
                path, threads, ModelCommandSupport.ParseBackend(backend), blocks, error, kvType: ModelCommandSupport.ParseKvCacheDtype(kvCacheDtype), quantization: ModelCommandSupport.ParseQuantize(quantize)))
            {
                (prefill, decode) = Measure(llama, promptTokens, genTokens, runs);
                backendName = llama.BackendName;
                kvType = llama.KvCacheDataType;
            }

            // The model is released first: the probes need the memory, and its workers must not compete with theirs.
            if (calibration?.OutputPath is { } file)
            {
                if (backendName != "cpu")
                {
                    throw new NotSupportedException($"--calibration-out probes the CPU backend's kernels; this run used '{backendName}' (use --backend cpu)");
                }

                ArgumentOutOfRangeException.ThrowIfLessThan(calibration.ProbeMib, 1);
                var usedThreads = threads ?? DecodeKernelProbe.DefaultThreads;
                var command = string.Create(CultureInfo.InvariantCulture,
                    $"fathom bench --model {path} --prompt-tokens {promptTokens} --gen-tokens {genTokens} --runs {runs} --threads {usedThreads} --calibration-out {file}");
                var record = CpuCalibration.Measure(path, calibration.Device, usedThreads, decode, promptTokens + (genTokens / 2.0),
                    (long)calibration.ProbeMib << 20, command, kvType);
                File.WriteAllText(file, CalibrationReader.Write([record]));
                error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"calibration for {record.Device} ({record.Weights}, {usedThreads} threads, {decode:F2} tok/s, bandwidth fraction {record.BandwidthFraction:F3}) written to {file}"));
            }
            if (json)
            {
                output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["prefill_tok_s"] = Math.Round(prefill, 2),
                    ["decode_tok_s"] = Math.Round(decode, 2),
                    ["prompt_tokens"] = promptTokens,
                    ["gen_tokens"] = genTokens,
                    ["backend"] = backendName,
                    ["cpu_model"] = CpuModel.Name,
                    ["kernel_tier"] = KernelTiers.Name(KernelTiers.Current),
                }));
            }
            else
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"prefill: {prefill:F1} tok/s ({promptTokens} tokens)  decode: {decode:F2} tok/s ({genTokens} tokens)  backend: {backendName}  cpu: {CpuModel.Name}  kernel tier: {KernelTiers.Name(KernelTiers.Current)}"));
            }

            return 0;
        }
        catch (Exception e) when (ModelCommandSupport.IsUserError(e) || e is Fathom.Planner.PlannerInputException)
        {
            return ModelCommandSupport.Fail(error, "bench", e);
        }
    }

    /// <summary>What <c>--calibration-out</c> asks for: where to write, the device id, and the probes' size.</summary>
    internal sealed record CalibrationOptions(string? OutputPath, string? Device, int ProbeMib = 1024);

    /// <summary>Best prefill and decode tokens/s over <paramref name="runs"/> runs (the cache is overwritten each run).</summary>
    internal static (double Prefill, double Decode) Measure(LlamaModel model, int promptTokens, int genTokens, int runs)
    {
        var vocab = model.HyperParameters.VocabularySize;
        var prompt = Enumerable.Range(0, promptTokens).Select(i => 3 + (int)((i * 7919L) % Math.Max(1, vocab - 3))).ToArray();
        var table = Enumerable.Range(0, model.KvBlockCount).ToArray();
        var logits = new float[vocab];
        double bestPrefill = 0, bestDecode = 0;
        for (var run = 0; run < runs; run++)
        {
            var clock = Stopwatch.StartNew();
            model.Forward(ForwardBatch.ForSequence(prompt, 0, table), logits);
            bestPrefill = Math.Max(bestPrefill, promptTokens / clock.Elapsed.TotalSeconds);
            clock.Restart();
            for (var i = 0; i < genTokens; i++)
            {
                model.Forward(ForwardBatch.ForSequence([model.ArgMax(logits)], promptTokens + i, table), logits);
            }

            if (genTokens > 0)
            {
                bestDecode = Math.Max(bestDecode, genTokens / clock.Elapsed.TotalSeconds);
            }
        }

        return (bestPrefill, bestDecode);
    }
}
