using System.Runtime.CompilerServices;
using System.Text.Json;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.OpenAi.Protocol;

namespace Fathom.EngineService.OpenAi;

/// <summary><c>POST /v1/completions</c>: OpenAI's legacy text completions over a raw prompt (text or token ids).</summary>
internal static class CompletionsEndpoint
{
    public static Task HandleAsync(HttpContext context, ModelHost host) => GenerationCall.HandleAsync(context, host, RespondAsync);

    private static async Task RespondAsync(HttpContext context, ServedModel model, EngineHost engine, JsonElement body)
    {
        var request = SamplingRequest.Parse(body, chat: false, model.GenerationDefaults);
        GenerationCall.CheckModel(request.Model, model);
        int[] prompt = Prompt(body, model);
        var grammar = ChatConstraints.ForResponseFormat(StructuredOutputRequest.ParseResponseFormat(body));
        var constraint = grammar is null ? null : ChatConstraints.Factory(grammar, model.ConstraintTokens);
        var outputs = await engine.SubmitAsync(new EngineRequest("cmpl", prompt, request.Sampling) { Constraint = constraint, CacheSalt = CacheSaltField.Read(body) }, context.RequestAborted);
        string id = $"cmpl-{Guid.NewGuid():N}";
        long created = GenerationCall.Created();
        if (request.Stream)
        {
            var ct = context.RequestAborted;
            await EventStreamResponse.WriteAsync(context.Response, Chunks(model, outputs, request, id, created, ct), OpenAiJsonContext.Wire.CompletionChunk, ct);
            return;
        }

        var choices = await GenerationCall.CollectAsync(outputs, request.Sampling.N, context.RequestAborted);
        var response = new CompletionResponse
        {
            Id = id,
            Created = created,
            Model = model.Name,
            Choices = [.. choices.Select((c, i) => Choice(model, request, i, c.Text.ToString(), c.Tokens, 0, c.FinishReason))],
            Usage = ProtocolMapping.Usage(outputs.Usage!),
        };
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, response, OpenAiJsonContext.Wire.CompletionResponse, context.RequestAborted);
    }

    private static async IAsyncEnumerable<CompletionChunk> Chunks(ServedModel model, GenerationOutputs outputs, SamplingRequest request,
        string id, long created, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var offsets = new int[request.Sampling.N];
        await foreach (var output in outputs.Outputs.ReadAllAsync(cancellationToken))
        {
            if (output.Text.Length == 0 && !request.Sampling.Logprobs && output.FinishReason is null)
            {
                continue;
            }

            int offset = offsets[output.Index];
            offsets[output.Index] += output.Text.Length;
            var choice = Choice(model, request, output.Index, output.Text, [output.Token], offset, output.FinishReason);
            yield return CompletionChunk.ForChoice(id, created, model.Name, choice, request.IncludeUsage);
        }

        if (request.IncludeUsage)
        {
            yield return CompletionChunk.ForUsage(id, created, model.Name, ProtocolMapping.Usage(outputs.Usage!));
        }
    }

    private static CompletionChoice Choice(ServedModel model, SamplingRequest request, int index, string text,
        IReadOnlyList<SampledToken> tokens, int textOffset, FinishReason? finish) => new()
    {
        Index = index,
        Text = text,
        Logprobs = request.Sampling.Logprobs ? ProtocolMapping.CompletionLogprobs(model.Tokenizer, tokens, textOffset) : null,
        FinishReason = ProtocolMapping.FinishReason(finish),
    };

    // A string, a one-element array of a string, token ids, or a one-element array of token ids.
    private static int[] Prompt(JsonElement body, ServedModel model)
    {
        var prompt = body.Get("prompt") ?? throw OpenAiException.BadRequest("'prompt' is required.", "prompt");
        if (prompt.ValueKind == JsonValueKind.Array && prompt.GetArrayLength() == 1
            && prompt[0].ValueKind is JsonValueKind.String or JsonValueKind.Array)
        {
            prompt = prompt[0];
        }

        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                return model.EncodePrompt(RequestFields.StringOf(prompt, "prompt"));
            case JsonValueKind.Array:
                var ids = new int[prompt.GetArrayLength()];
                int i = 0;
                foreach (var item in prompt.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id) || id < 0 || id >= model.Tokenizer.Count)
                    {
                        throw OpenAiException.BadRequest("'prompt' must be a string, or token ids within the vocabulary; one prompt per request.", "prompt");
                    }

                    ids[i++] = id;
                }

                return ids;
            default:
                throw RequestFields.Invalid("prompt", "a string or an array of token ids");
        }
    }
}
