using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Fathom.Planner;
using Fathom.Planner.Performance;
using Fathom.Planner.Reports;

namespace Fathom.Cli.Commands;

/// <summary><c>fathom plan</c>: what hardware a model needs, how fast it runs there, and what it costs.</summary>
internal static class PlanCommand
{
    private const int InputError = 2;
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "Preset name, HF config.json (or its folder), or .gguf file" };
        var weights = new Option<string?>("--weights", "-w") { Description = "f32, bf16, fp16, fp8, int8, q8_0, q4_k_m, q4_0, gptq-4bit[-gN], awq-4bit[-gN] (default: bf16, or the GGUF's own tensors)" };
        var gpu = new Option<string?>("--gpu", "-g") { Description = "h100-sxm, h100-pcie, h200, h20, a100-40, a100-80, l40s, rtx-4090, mi300x (or a device from --calibration)" };
        var kvCache = new Option<string>("--kv-cache") { Description = "KV cache type: f16 (Fathom's CPU engine by default), f32 (its --kv-cache-dtype f32), fp8 (its --kv-cache-dtype fp8), q8_0", DefaultValueFactory = _ => "f16" };
        var context = new Option<int>("--context") { Description = "Longest sequence a request may reach", DefaultValueFactory = _ => 8192 };
        var concurrency = new Option<int>("--concurrency") { Description = "Sequences decoding at once", DefaultValueFactory = _ => 1 };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Typical prompt length", DefaultValueFactory = _ => 1024 };
        var outputTokens = new Option<int>("--output-tokens") { Description = "Typical output length", DefaultValueFactory = _ => 512 };
        var groupSize = new Option<int>("--group-size") { Description = "Group size of gptq/awq weights (0 = per-channel)", DefaultValueFactory = _ => 128 };
        var targetTtft = new Option<double?>("--target-ttft") { Description = "Largest acceptable time to first token, seconds" };
        var targetTokS = new Option<double?>("--target-tok-s") { Description = "Smallest acceptable per-user decode tokens/s" };
        var tp = new Option<int?>("--tp") { Description = "Force this tensor-parallel size" };
        var pp = new Option<int?>("--pp") { Description = "Force this many pipeline stages" };
        var calibration = new Option<string?>("--calibration") { Description = "Calibration file written by fathom bench --calibration-out" };
        var threads = new Option<int?>("--threads") { Description = "CPU threads, for a CPU device calibrated with kernel rates (default: the calibration run's)" };
        var json = new Option<bool>("--json") { Description = "Print the plan as JSON (snake_case)" };
        var checkArticle = new Option<bool>("--check-article") { Description = "Check the DeepSeek-70B hardware article's claims against the planner" };
        var readme = new Option<bool>("--readme-section") { Description = "Print the generated README section (docs/planner-deepseek-70b.md)" };

        var command = new Command("plan", "Plan hardware for a model: memory per GPU, valid layouts, speed, TTFT, cost and fine-tuning memory.")
        {
            model, weights, gpu, kvCache, context, concurrency, promptTokens, outputTokens, groupSize, targetTtft, targetTokS, tp, pp, threads, calibration, json, checkArticle, readme,
        };

        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var planner = new HardwarePlanner();
                if (parse.GetValue(readme))
                {
                    output.Write(ReadmeSection.Generate(planner));
                    return 0;
                }

                if (parse.GetValue(checkArticle))
                {
                    return WriteArticleCheck(ArticleCheck.Run(planner), parse.GetValue(json), output);
                }

                var modelName = parse.GetValue(model);
                var gpuName = parse.GetValue(gpu);
                if (string.IsNullOrWhiteSpace(modelName) || string.IsNullOrWhiteSpace(gpuName))
                {
                    error.WriteLine("fathom plan: --model and --gpu are required (or use --check-article / --readme-section)");
                    return InputError;
                }

                var request = new PlanRequest
                {
                    Model = modelName, Gpu = gpuName, Weights = parse.GetValue(weights), KvCache = parse.GetValue(kvCache)!,
                    Context = parse.GetValue(context), Concurrency = parse.GetValue(concurrency), PromptTokens = parse.GetValue(promptTokens),
                    OutputTokens = parse.GetValue(outputTokens), GroupSize = parse.GetValue(groupSize), TargetTtftS = parse.GetValue(targetTtft),
                    TargetTokSPerUser = parse.GetValue(targetTokS), Tp = parse.GetValue(tp), Pp = parse.GetValue(pp), Threads = parse.GetValue(threads),
                };
                var records = parse.GetValue(calibration) is { } file ? CalibrationReader.Read(file) : null;
                var plan = planner.Plan(request, records);
                if (parse.GetValue(json))
                {
                    output.WriteLine(JsonSerializer.Serialize(plan, PlanJson.Options));
                }
                else
                {
                    PlanTextWriter.Write(plan, output);
                }

                return 0;
            }
            catch (PlannerInputException e)
            {
                error.WriteLine($"fathom plan: {e.Message}");
                return InputError;
            }
        });
        return command;
    }

    private static int WriteArticleCheck(IReadOnlyList<ArticleClaimCheck> checks, bool json, TextWriter output)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(checks, PlanJson.Options));
            return 0;
        }

        output.WriteLine("DeepSeek-R1-Distill-Llama-70B on H100 SXM 80 GB: the article's claims beside the planner's answers");
        output.WriteLine();
        foreach (var (check, i) in checks.Select((c, i) => (c, i + 1)))
        {
            output.WriteLine(string.Create(Invariant, $"{i}. Article: {check.Claim}"));
            output.WriteLine($"   Planner: {check.Planner}");
            output.WriteLine($"   Verdict: {check.Verdict.ToUpperInvariant()}. {check.Reason}");
            output.WriteLine();
        }

        return 0;
    }
}
