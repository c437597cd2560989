using System.CommandLine;
using System.Text;
using System.Text.Json;
using Fathom.Engine.Model;
using Fathom.Engine.Sampling;
using Fathom.Engine.Tokenization;

namespace Fathom.Cli.Commands;

/// <summary><c>fathom generate --model FILE (--prompt TEXT | --prompt-ids IDS) ...</c>: streams a continuation.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The GGUF model file, or a reference (hf.co/ORG/REPO:QUANT) pulled into the model store when missing.", Required = true };
        var prompt = new Option<string?>("--prompt") { Description = "The prompt text (tokenized with the model's vocabulary; BOS as the file asks)." };
        var promptIds = new Option<string?>("--prompt-ids") { Description = "The prompt as token ids (comma-separated), used as given." };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 128 };
        var temperature = new Option<float>("--temperature") { Description = "Softmax temperature; 0 is greedy.", DefaultValueFactory = _ => 0f };
        var seed = new Option<long?>("--seed") { Description = "Seed of the sampler (default: random)." };
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: physical cores)." };
        var backend = ModelCommandSupport.BackendOption();
        var tp = new Option<int>("--tp") { Description = "Tensor parallelism: split the model over N accelerators (cuda: devices 0..N-1; ilgpu-cpu: N CPU accelerators).", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print {\"prompt_tokens\":[...],\"tokens\":[...],\"text\":\"...\"} at the end instead of streaming." };
        var command = new Command("generate", "Generate a continuation of a prompt.")
        {
            model, prompt, promptIds, maxTokens, temperature, seed, threads, backend, tp, json,
        };
        command.SetAction(r => Run(
            new Request(r.GetRequiredValue(model), r.GetValue(prompt), r.GetValue(promptIds), r.GetValue(maxTokens), r.GetValue(temperature),
                r.GetValue(seed), r.GetValue(threads), r.GetValue(backend) ?? "auto", r.GetValue(json), r.GetValue(tp)),
            r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(Request request, TextWriter output, TextWriter error)
    {
        try
        {
            if ((request.Prompt is null) == (request.PromptIds is null))
            {
                throw new ArgumentException("give either --prompt TEXT or --prompt-ids IDS");
            }

            ArgumentOutOfRangeException.ThrowIfNegative(request.MaxTokens, "--max-tokens");
            var backend = ModelCommandSupport.ParseBackend(request.Backend);
            using var llama = ModelCommandSupport.Load(request.Path, request.Threads, backend, kvBlocks: null, error, request.TensorParallel);
            var tokenizer = Engine.Serving.HuggingFaceModelFiles.CreateTokenizer(llama);
            var ids = request.PromptIds is { } text ? ModelCommandSupport.ParseIds(text) : tokenizer.Encode(request.Prompt!, addSpecial: true);
            if (ids.Length == 0)
            {
                throw new ArgumentException("the prompt has no tokens");
            }

            var parameters = new SamplingParams { Temperature = request.Temperature, Seed = request.Seed, MaxTokens = request.MaxTokens };
            parameters.Validate(llama.HyperParameters.VocabularySize);
            var seed = request.Seed ?? Random.Shared.NextInt64();
            var detokenizer = tokenizer.CreateStreamingDetokenizer();
            var tokens = new List<int>();
            var all = new StringBuilder();
            void Emit(string piece)
            {
                all.Append(piece);
                if (!request.Json && piece.Length > 0)
                {
                    output.Write(piece);
                    output.Flush();
                }
            }

            var sampler = new Sampler();
            foreach (var logits in Steps(llama, ids, tokens, request.MaxTokens))
            {
                var token = sampler.Sample(logits, parameters, ids, [.. tokens], new SampleKey(seed, 0, tokens.Count)).TokenId;
                tokens.Add(token);
                if (tokenizer.IsEndOfGeneration(token))
                {
                    break;
                }

                Emit(detokenizer.Append(token));
            }

            Emit(detokenizer.Flush());
            if (request.Json)
            {
                output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["prompt_tokens"] = ids,
                    ["tokens"] = tokens,
                    ["text"] = all.ToString(),
                }));
            }
            else
            {
                output.WriteLine();
            }

            return 0;
        }
        catch (Exception e) when (ModelCommandSupport.IsUserError(e) || e is TokenizerException or InvalidSamplingParameterException)
        {
            return ModelCommandSupport.Fail(error, "generate", e);
        }
    }

    /// <summary>
    /// Prefills the prompt, then yields the logits of each next position: the caller appends its pick to
    /// <paramref name="generated"/> before asking for the next. Stops at <paramref name="maxTokens"/> or a full cache.
    /// </summary>
    private static IEnumerable<float[]> Steps(LlamaModel llama, int[] prompt, List<int> generated, int maxTokens)
    {
        var table = Enumerable.Range(0, llama.KvBlockCount).ToArray();
        var capacity = table.Length * llama.KvBlockSize;
        if (prompt.Length >= capacity)
        {
            throw new ArgumentException($"the prompt has {prompt.Length} tokens; the KV cache holds {capacity}");
        }

        var logits = new float[llama.HyperParameters.VocabularySize]; // (vocab)
        if (maxTokens == 0)
        {
            yield break;
        }

        llama.Forward(ForwardBatch.ForSequence(prompt, 0, table), logits);
        yield return logits;
        var position = prompt.Length;
        while (generated.Count < maxTokens && position < capacity)
        {
            llama.Forward(ForwardBatch.ForSequence([generated[^1]], position++, table), logits);
            yield return logits;
        }
    }

    private sealed record Request(string Path, string? Prompt, string? PromptIds, int MaxTokens, float Temperature, long? Seed, int? Threads, string Backend, bool Json, int TensorParallel);
}
