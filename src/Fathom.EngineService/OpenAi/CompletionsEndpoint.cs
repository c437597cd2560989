using System.Text.Json;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;

namespace Fathom.EngineService.OpenAi;

/// <summary><c>POST /v1/completions</c>: OpenAI's legacy text completions over a raw prompt (text or token ids).</summary>
internal static class CompletionsEndpoint
{
    public static Task HandleAsync(HttpContext context, ModelHost host) => GenerationCall.HandleAsync(context, host, RespondAsync);

    private static async Task RespondAsync(HttpContext context, ServedModel model, EngineHost engine, JsonElement body)
    {
        var request = SamplingRequest.Parse(body, chat: false);
        GenerationCall.CheckModel(request.Model, model);
        int[] prompt = Prompt(body, model);
        var outputs = await engine.SubmitAsync(new EngineRequest("cmpl", prompt, request.Sampling), context.RequestAborted);
        string id = $"cmpl-{Guid.NewGuid():N}";
        long created = GenerationCall.Created();
        if (request.Stream)
        {
            await StreamAsync(context, model, outputs, request, id, created);
            return;
        }

        var choices = await GenerationCall.CollectAsync(outputs, request.Sampling.N, context.RequestAborted);
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body, OpenAiJson.WriterOptions);
        Header(json, id, created, model.Name);
        json.WriteStartArray("choices");
        for (int i = 0; i < choices.Length; i++)
        {
            WriteChoice(json, model, request, i, choices[i].Text.ToString(), choices[i].Tokens, 0, choices[i].FinishReason);
        }

        json.WriteEndArray();
        OpenAiJson.WriteUsage(json, outputs.Usage!);
        json.WriteEndObject();
    }

    private static async Task StreamAsync(HttpContext context, ServedModel model, GenerationOutputs outputs, SamplingRequest request, string id, long created)
    {
        var ct = context.RequestAborted;
        var events = new ServerSentEvents(context.Response);
        var offsets = new int[request.Sampling.N];
        await foreach (var output in outputs.Outputs.ReadAllAsync(ct))
        {
            if (output.Text.Length == 0 && !request.Sampling.Logprobs && output.FinishReason is null)
            {
                continue;
            }

            int offset = offsets[output.Index];
            offsets[output.Index] += output.Text.Length;
            await events.WriteAsync(json =>
            {
                Header(json, id, created, model.Name);
                json.WriteStartArray("choices");
                WriteChoice(json, model, request, output.Index, output.Text, [output.Token], offset, output.FinishReason);
                json.WriteEndArray();
                if (request.IncludeUsage)
                {
                    json.WriteNull("usage");
                }

                json.WriteEndObject();
            }, ct);
        }

        if (request.IncludeUsage)
        {
            await events.WriteAsync(json =>
            {
                Header(json, id, created, model.Name);
                json.WriteStartArray("choices");
                json.WriteEndArray();
                OpenAiJson.WriteUsage(json, outputs.Usage!);
                json.WriteEndObject();
            }, ct);
        }

        await events.WriteDoneAsync(ct);
    }

    private static void WriteChoice(Utf8JsonWriter json, ServedModel model, SamplingRequest request, int index, string text,
        IReadOnlyList<Engine.Sampling.SampledToken> tokens, int textOffset, FinishReason? finish)
    {
        json.WriteStartObject();
        json.WriteNumber("index", index);
        json.WriteString("text", text);
        if (request.Sampling.Logprobs)
        {
            OpenAiJson.WriteCompletionLogprobs(json, model.Tokenizer, tokens, textOffset);
        }
        else
        {
            json.WriteNull("logprobs");
        }

        OpenAiJson.WriteFinishReason(json, finish);
        json.WriteEndObject();
    }

    private static void Header(Utf8JsonWriter json, string id, long created, string modelName)
    {
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("object", "text_completion");
        json.WriteNumber("created", created);
        json.WriteString("model", modelName);
    }

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
                return model.EncodePrompt(prompt.GetString()!);
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
                throw RequestJson.Invalid("prompt", "a string or an array of token ids");
        }
    }
}
