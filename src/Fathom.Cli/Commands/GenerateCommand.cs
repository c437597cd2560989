using System.CommandLine;
using System.Text;
using System.Text.Json;
using Fathom.Engine.Model;

namespace Fathom.Cli.Commands;

/// <summary><c>fathom generate --model FILE (--prompt TEXT | --prompt-ids IDS) ...</c>: streams a continuation.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The GGUF model file.", Required = true };
        var prompt = new Option<string?>("--prompt") { Description = "The prompt text." };
        var promptIds = new Option<string?>("--prompt-ids") { Description = "The prompt as token ids (comma-separated), used as given." };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 128 };
        var temperature = new Option<float>("--temperature") { Description = "Softmax temperature; 0 is greedy.", DefaultValueFactory = _ => 0f };
        var seed = new Option<int?>("--seed") { Description = "Seed of the sampler." };
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: physical cores)." };
        var backend = new Option<ComputeBackendKind>("--backend") { Description = "cpu or reference.", DefaultValueFactory = _ => ComputeBackendKind.Cpu };
        var json = new Option<bool>("--json") { Description = "Print {\"prompt_tokens\":[...],\"tokens\":[...],\"text\":\"...\"} at the end instead of streaming." };
        var command = new Command("generate", "Generate a continuation of a prompt.")
        {
            model, prompt, promptIds, maxTokens, temperature, seed, threads, backend, json,
        };
        command.SetAction(r => Run(
            r.GetRequiredValue(model), r.GetValue(prompt), r.GetValue(promptIds), r.GetValue(maxTokens), r.GetValue(temperature),
            r.GetValue(seed), r.GetValue(threads), r.GetValue(backend), r.GetValue(json),
            r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return command;
    }

    internal static int Run(string path, string? prompt, string? promptIds, int maxTokens, float temperature, int? seed, int? threads,
        ComputeBackendKind backend, bool json, TextWriter output, TextWriter error)
    {
        try
        {
            if (promptIds is null)
            {
                // The tokenizer (Engine/Tokenization) plugs in here; until then only ids are accepted.
                throw new ArgumentException(prompt is null
                    ? "give --prompt-ids (comma-separated token ids)"
                    : "text prompts need the engine tokenizer, not in this build yet; give --prompt-ids instead");
            }

            ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
            var ids = ModelCommandSupport.ParseIds(promptIds);
            using var llama = ModelCommandSupport.Load(path, threads, backend, kvBlocks: null, error);
            var eos = llama.File.Metadata.ContainsKey("tokenizer.ggml.eos_token_id")
                ? (int?)llama.File.Metadata.GetInt32("tokenizer.ggml.eos_token_id") : null;
            var decoder = new ModelCommandSupport.PieceDecoder(llama.File);
            var generator = new SingleSequenceGenerator(llama);
            var tokens = new List<int>();
            var text = new StringBuilder();
            foreach (var token in generator.Generate(ids, maxTokens, new TokenSampler(temperature, seed), eos))
            {
                tokens.Add(token);
                var piece = decoder.Decode(token);
                text.Append(piece);
                if (!json)
                {
                    output.Write(piece);
                    output.Flush();
                }
            }

            if (json)
            {
                output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["prompt_tokens"] = ids,
                    ["tokens"] = tokens,
                    ["text"] = text.ToString(),
                }));
            }
            else
            {
                output.WriteLine();
            }

            return 0;
        }
        catch (Exception e) when (ModelCommandSupport.IsUserError(e))
        {
            return ModelCommandSupport.Fail(error, "generate", e);
        }
    }
}
