using System.Text.Json;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Templates;
using Fathom.Engine.Templates.Reasoning;
using Fathom.Engine.Templates.Tools;

namespace Fathom.EngineService.OpenAi;

/// <summary>
/// <c>POST /v1/chat/completions</c>: OpenAI's chat completions, streaming or not, with DeepSeek-R1 reasoning split out
/// and tool calls (rendered and parsed by the template's family) returned as <c>tool_calls</c>.
/// </summary>
internal static class ChatCompletionsEndpoint
{
    public static Task HandleAsync(HttpContext context, ModelHost host) => GenerationCall.HandleAsync(context, host, RespondAsync);

    private static async Task RespondAsync(HttpContext context, ServedModel model, EngineHost engine, JsonElement body)
    {
        var request = SamplingRequest.Parse(body, chat: true);
        GenerationCall.CheckModel(request.Model, model);
        var messages = ChatMessages.Parse(body);
        var tools = ChatTools.Parse(body, model.ChatFormat.Template);
        int[] prompt = model.EncodeChat(messages, model.ChatFormat.RenderOptions(tools: tools?.Tools));
        var sampling = model.ChatFormat.Template.StopStrings is { Count: > 0 } templateStops
            ? request.Sampling with { Stop = [.. request.Sampling.Stop ?? [], .. templateStops] }
            : request.Sampling;
        var outputs = await engine.SubmitAsync(new EngineRequest("chatcmpl", prompt, sampling), context.RequestAborted);
        string id = $"chatcmpl-{Guid.NewGuid():N}";
        if (request.Stream)
        {
            await StreamAsync(context, model, outputs, request, id, tools?.Parser);
            return;
        }

        var choices = await GenerationCall.CollectAsync(outputs, sampling.N, context.RequestAborted);
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body, OpenAiJson.WriterOptions);
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("object", "chat.completion");
        json.WriteNumber("created", GenerationCall.Created());
        json.WriteString("model", model.Name);
        json.WriteStartArray("choices");
        for (int i = 0; i < choices.Length; i++)
        {
            var choice = choices[i];
            var split = model.ReasoningParser?.Parse(choice.Text.ToString()) ?? new ReasoningResult(null, choice.Text.ToString());
            json.WriteStartObject();
            json.WriteNumber("index", i);
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            var calls = tools?.Parser?.Parse(split.Content ?? "");
            if (calls is { HasToolCalls: true })
            {
                if (calls.Content is { Length: > 0 } text)
                {
                    json.WriteString("content", text);
                }
                else
                {
                    json.WriteNull("content");
                }
            }
            else
            {
                json.WriteString("content", split.Content ?? "");
            }

            if (split.ReasoningContent is { } reasoning)
            {
                json.WriteString("reasoning_content", reasoning);
            }

            if (calls is { HasToolCalls: true })
            {
                ChatTools.WriteToolCalls(json, calls.ToolCalls);
            }

            json.WriteEndObject();
            if (request.Sampling.Logprobs)
            {
                OpenAiJson.WriteChatLogprobs(json, model.Tokenizer, choice.Tokens);
            }
            else
            {
                json.WriteNull("logprobs");
            }

            if (calls is { HasToolCalls: true })
            {
                json.WriteString("finish_reason", "tool_calls");
            }
            else
            {
                OpenAiJson.WriteFinishReason(json, choice.FinishReason);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        OpenAiJson.WriteUsage(json, outputs.Usage!);
        json.WriteEndObject();
    }

    private static async Task StreamAsync(HttpContext context, ServedModel model, GenerationOutputs outputs, SamplingRequest request, string id, IToolCallParser? toolParser)
    {
        var ct = context.RequestAborted;
        var events = new ServerSentEvents(context.Response);
        long created = GenerationCall.Created();
        int n = request.Sampling.N;
        var parsers = Enumerable.Range(0, n).Select(_ => model.ReasoningParser?.CreateStreamingParser()).ToArray();
        var toolParsers = Enumerable.Range(0, n).Select(_ => toolParser?.CreateStreamingParser()).ToArray();
        var callsSoFar = new int[n];
        var opened = new bool[n];
        await foreach (var output in outputs.Outputs.ReadAllAsync(ct))
        {
            int index = output.Index;
            if (!opened[index])
            {
                opened[index] = true;
                await events.WriteAsync(json => Chunk(json, id, created, model, request, index, new ReasoningResult(null, ""), role: true, null, null, []), ct);
            }

            var parser = parsers[index];
            bool last = output.FinishReason is not null;
            var delta = parser?.Push(output.Text, last) ?? new ReasoningResult(null, output.Text);

            IReadOnlyList<ChatToolCall> calls = [];
            if (toolParsers[index] is { } tools)
            {
                var parsed = tools.Push(delta.Content ?? "", last);

                delta = delta with { Content = parsed.Content ?? "" };
                calls = parsed.ToolCalls;
            }

            if (delta.IsEmpty && calls.Count == 0 && !request.Sampling.Logprobs && output.FinishReason is null)
            {
                continue;
            }

            int firstCall = callsSoFar[index];
            callsSoFar[index] += calls.Count;
            bool calledTools = callsSoFar[index] > 0;
            await events.WriteAsync(json => Chunk(json, id, created, model, request, index, delta, role: false, output, output.FinishReason, calls, firstCall, calledTools), ct);
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

    private static void Chunk(Utf8JsonWriter json, string id, long created, ServedModel model, SamplingRequest request, int index,
        ReasoningResult delta, bool role, GenerationOutput? output, FinishReason? finish, IReadOnlyList<ChatToolCall> calls, int firstCall = 0, bool calledTools = false)
    {
        Header(json, id, created, model.Name);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", index);
        json.WriteStartObject("delta");
        if (role)
        {
            json.WriteString("role", "assistant");
        }

        if (!string.IsNullOrEmpty(delta.ReasoningContent))
        {
            json.WriteString("reasoning_content", delta.ReasoningContent);
        }

        if (delta.Content is not null && (role || delta.Content.Length > 0))
        {
            json.WriteString("content", delta.Content);
        }

        if (calls.Count > 0)
        {
            ChatTools.WriteToolCalls(json, calls, firstCall);
        }

        json.WriteEndObject();
        if (request.Sampling.Logprobs && output is not null)
        {
            OpenAiJson.WriteChatLogprobs(json, model.Tokenizer, [output.Token]);
        }
        else
        {
            json.WriteNull("logprobs");
        }

        if (finish is not null && calledTools)
        {
            json.WriteString("finish_reason", "tool_calls");
        }
        else
        {
            OpenAiJson.WriteFinishReason(json, finish);
        }

        json.WriteEndObject();
        json.WriteEndArray();
        if (request.IncludeUsage)
        {
            json.WriteNull("usage");
        }

        json.WriteEndObject();
    }

    private static void Header(Utf8JsonWriter json, string id, long created, string modelName)
    {
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("object", "chat.completion.chunk");
        json.WriteNumber("created", created);
        json.WriteString("model", modelName);
    }
}
