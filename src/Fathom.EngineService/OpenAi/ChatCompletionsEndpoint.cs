using System.Text.Json;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.Engine.Templates;

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
        var tools = ChatTools.Parse(body);
        var session = await ChatSession.StartAsync(model, engine, new ChatRequest
        {
            Messages = messages,
            Sampling = request.Sampling,
            Tools = tools?.Tools,
            ToolsEnabled = tools?.Enabled ?? false,
        }, context.RequestAborted);
        string id = $"chatcmpl-{Guid.NewGuid():N}";
        if (request.Stream)
        {
            await StreamAsync(context, model, session, request, id);
            return;
        }

        var completion = await session.CompleteAsync(context.RequestAborted);
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body, OpenAiJson.WriterOptions);
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("object", "chat.completion");
        json.WriteNumber("created", GenerationCall.Created());
        json.WriteString("model", model.Name);
        json.WriteStartArray("choices");
        foreach (var choice in completion.Choices)
        {
            json.WriteStartObject();
            json.WriteNumber("index", choice.Index);
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            if (choice.Content is { } content)
            {
                json.WriteString("content", content);
            }
            else
            {
                json.WriteNull("content");
            }

            if (choice.ReasoningContent is { } reasoning)
            {
                json.WriteString("reasoning_content", reasoning);
            }

            if (choice.ToolCalls.Count > 0)
            {
                ChatTools.WriteToolCalls(json, choice.ToolCalls);
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

            WriteFinishReason(json, choice.FinishReason);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        OpenAiJson.WriteUsage(json, completion.Usage);
        json.WriteEndObject();
    }

    private static async Task StreamAsync(HttpContext context, ServedModel model, ChatSession session, SamplingRequest request, string id)
    {
        var ct = context.RequestAborted;
        var events = new ServerSentEvents(context.Response);
        long created = GenerationCall.Created();
        var opened = new bool[session.ChoiceCount];
        await foreach (var delta in session.StreamAsync(ct))
        {
            int index = delta.Index;
            if (!opened[index])
            {
                opened[index] = true;
                await events.WriteAsync(json => Chunk(json, id, created, model, request, index, null), ct);
            }

            if (delta.IsEmpty && !request.Sampling.Logprobs)
            {
                continue;
            }

            await events.WriteAsync(json => Chunk(json, id, created, model, request, index, delta), ct);
        }

        if (request.IncludeUsage)
        {
            await events.WriteAsync(json =>
            {
                Header(json, id, created, model.Name);
                json.WriteStartArray("choices");
                json.WriteEndArray();
                OpenAiJson.WriteUsage(json, session.Usage!);
                json.WriteEndObject();
            }, ct);
        }

        await events.WriteDoneAsync(ct);
    }

    // The first chunk of a choice (delta null) carries the role and an empty content, as OpenAI's do.
    private static void Chunk(Utf8JsonWriter json, string id, long created, ServedModel model, SamplingRequest request, int index,
        ChatDelta? delta)
    {
        Header(json, id, created, model.Name);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", index);
        json.WriteStartObject("delta");
        if (delta is null)
        {
            json.WriteString("role", "assistant");
            json.WriteString("content", "");
        }
        else
        {
            if (!string.IsNullOrEmpty(delta.ReasoningContent))
            {
                json.WriteString("reasoning_content", delta.ReasoningContent);
            }

            if (delta.Content.Length > 0)
            {
                json.WriteString("content", delta.Content);
            }

            if (delta.ToolCalls.Count > 0)
            {
                ChatTools.WriteToolCalls(json, delta.ToolCalls, delta.FirstToolCallIndex);
            }
        }

        json.WriteEndObject();
        if (request.Sampling.Logprobs && delta is not null)
        {
            OpenAiJson.WriteChatLogprobs(json, model.Tokenizer, [delta.Token]);
        }
        else
        {
            json.WriteNull("logprobs");
        }

        WriteFinishReason(json, delta?.FinishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        if (request.IncludeUsage)
        {
            json.WriteNull("usage");
        }

        json.WriteEndObject();
    }

    private static void WriteFinishReason(Utf8JsonWriter json, ChatFinishReason? reason)
    {
        if (reason is ChatFinishReason.ToolCalls)
        {
            json.WriteString("finish_reason", "tool_calls");
            return;
        }

        OpenAiJson.WriteFinishReason(json, reason switch
        {
            ChatFinishReason.Stop => FinishReason.Stop,
            ChatFinishReason.Length => FinishReason.Length,
            ChatFinishReason.Abort => FinishReason.Abort,
            _ => null,
        });
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
