using System.Runtime.CompilerServices;
using System.Text.Json;
using Fathom.Connector.Wire;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;
using Fathom.Engine.Templates;
using Microsoft.Extensions.AI;
using EngineChatMessage = Fathom.Engine.Templates.ChatMessage;
using MeaiChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Fathom.Connector.Embedded;

/// <summary>
/// An <see cref="IChatClient"/> over an engine running in this process: the GGUF's chat template renders the
/// messages (and tools), the continuous-batching engine generates, and the answer is split by the same
/// <see cref="ChatSession"/> as the engine service's (DeepSeek-R1 reasoning, template tool calls), so embedded and
/// server modes answer alike.
/// </summary>
internal sealed class EmbeddedChatClient : IChatClient
{
    private readonly ServedModel _model;
    private readonly EngineHost _engine;
    private readonly ChatClientMetadata _metadata;
    private int _disposed;

    public EmbeddedChatClient(ServedModel model, EngineHost engine, string modelId)
    {
        _model = model;
        _engine = engine;
        ModelId = modelId;
        _metadata = new ChatClientMetadata("fathom-embedded", null, modelId);
    }

    public string ModelId { get; }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<MeaiChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var session = await StartAsync(messages, options, cancellationToken).ConfigureAwait(false);
        var completion = await session.CompleteAsync(cancellationToken).ConfigureAwait(false);
        var choice = completion.Choices[0];
        var contents = new List<AIContent>();
        if (!string.IsNullOrEmpty(choice.ReasoningContent))
        {
            contents.Add(new TextReasoningContent(choice.ReasoningContent));
        }

        if (choice.Content is { } answer)
        {
            contents.Add(new TextContent(answer));
        }

        foreach (var call in choice.ToolCalls)
        {
            contents.Add(ChatResponseMapper.ToFunctionCall(call.Id, call.Name, call.Arguments));
        }

        return new ChatResponse(new MeaiChatMessage(ChatRole.Assistant, contents))
        {
            ResponseId = completion.RequestId,
            ModelId = ModelId,
            CreatedAt = DateTimeOffset.UtcNow,
            FinishReason = ToFinishReason(choice.FinishReason),
            Usage = ToUsage(completion.Usage),
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<MeaiChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var session = await StartAsync(messages, options, cancellationToken).ConfigureAwait(false);
        await foreach (var delta in session.StreamAsync(cancellationToken).ConfigureAwait(false))
        {
            if (delta.IsEmpty)
            {
                continue;
            }

            var contents = new List<AIContent>();
            if (delta.ReasoningContent is { } reasoning)
            {
                contents.Add(new TextReasoningContent(reasoning));
            }

            if (delta.Content.Length > 0)
            {
                contents.Add(new TextContent(delta.Content));
            }

            foreach (var call in delta.ToolCalls)
            {
                contents.Add(ChatResponseMapper.ToFunctionCall(call.Id, call.Name, call.Arguments));
            }

            yield return new ChatResponseUpdate(ChatRole.Assistant, contents)
            {
                ResponseId = session.RequestId,
                ModelId = ModelId,
                CreatedAt = DateTimeOffset.UtcNow,
                FinishReason = ToFinishReason(delta.FinishReason),
            };
        }

        if (ToUsage(session.Usage) is { } usage)
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(usage)]) { ResponseId = session.RequestId, ModelId = ModelId };
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return _metadata;
        }

        return serviceType.IsInstanceOfType(this) ? this : serviceType.IsInstanceOfType(_model) ? _model : null;
    }

    public void Dispose()
    {
        // A service provider disposes its singletons once more after a caller did; the model's native memory must be freed once.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _engine.Dispose();
        _model.Dispose();
    }

    private ValueTask<ChatSession> StartAsync(IEnumerable<MeaiChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        IReadOnlyList<JsonElement>? tools = null;
        if (options?.Tools is { Count: > 0 } && options.ToolMode is not NoneChatToolMode)
        {
            tools = options.Tools.OfType<AIFunctionDeclaration>().Select(ToolJson).ToArray();
        }

        var request = new ChatRequest
        {
            Messages = [.. messages.SelectMany(ToEngineMessages)],
            Sampling = ToSampling(options),
            Tools = tools,
            RequestIdPrefix = "chatcmpl-embedded", // the host makes the id unique
        };
        return ChatSession.StartAsync(_model, _engine, request, cancellationToken);
    }

    private static SamplingParams ToSampling(ChatOptions? options)
    {
        var sampling = new SamplingParams
        {
            Temperature = options?.Temperature ?? 1f,
            TopP = options?.TopP ?? 1f,
            TopK = options?.TopK ?? 0,
            Seed = options?.Seed,
            MaxTokens = options?.MaxOutputTokens,
            Stop = options?.StopSequences is { Count: > 0 } stop ? [.. stop] : null,
            FrequencyPenalty = options?.FrequencyPenalty ?? 0f,
            PresencePenalty = options?.PresencePenalty ?? 0f,
        };
        if (options?.AdditionalProperties is { } extra)
        {
            if (extra.TryGetValue("min_p", out float minP))
            {
                sampling = sampling with { MinP = minP };
            }

            if (extra.TryGetValue("repetition_penalty", out float repetition))
            {
                sampling = sampling with { RepetitionPenalty = repetition };
            }
        }

        sampling.Validate();
        return sampling;
    }

    private static IEnumerable<EngineChatMessage> ToEngineMessages(MeaiChatMessage message)
    {
        var role = message.Role.Value;
        var results = message.Contents.OfType<FunctionResultContent>().ToList();
        if (results.Count > 0)
        {
            foreach (var result in results)
            {
                yield return new EngineChatMessage("tool", ChatRequestMapper.ResultText(result.Result)) { ToolCallId = result.CallId };
            }

            yield break;
        }

        var calls = message.Contents.OfType<FunctionCallContent>()
            .Select(c => new ChatToolCall(c.CallId, c.Name, ChatRequestMapper.ArgumentsJson(c)))
            .ToList();
        var text = string.Concat(message.Contents.OfType<TextContent>().Select(t => t.Text));
        var reasoning = string.Concat(message.Contents.OfType<TextReasoningContent>().Select(t => t.Text));
        yield return new EngineChatMessage(role, calls.Count > 0 && text.Length == 0 ? null : text)
        {
            ToolCalls = calls.Count > 0 ? calls : null,
            ReasoningContent = reasoning.Length > 0 ? reasoning : null,
            Name = message.AuthorName,
        };
    }

    private static JsonElement ToolJson(AIFunctionDeclaration function)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", "function");
            json.WriteStartObject("function");
            json.WriteString("name", function.Name);
            if (!string.IsNullOrEmpty(function.Description))
            {
                json.WriteString("description", function.Description);
            }

            json.WritePropertyName("parameters");
            function.JsonSchema.WriteTo(json);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return JsonDocument.Parse(buffer.ToArray()).RootElement.Clone();
    }

    private static Microsoft.Extensions.AI.ChatFinishReason? ToFinishReason(Engine.Serving.ChatFinishReason? reason) => reason switch
    {
        null => null,
        Engine.Serving.ChatFinishReason.ToolCalls => Microsoft.Extensions.AI.ChatFinishReason.ToolCalls,
        Engine.Serving.ChatFinishReason.Length => Microsoft.Extensions.AI.ChatFinishReason.Length,
        Engine.Serving.ChatFinishReason.Abort => new Microsoft.Extensions.AI.ChatFinishReason("abort"),
        _ => Microsoft.Extensions.AI.ChatFinishReason.Stop,
    };

    private static UsageDetails? ToUsage(GenerationUsage? usage) => usage is null ? null : new UsageDetails
    {
        InputTokenCount = usage.PromptTokens,
        OutputTokenCount = usage.CompletionTokens,
        TotalTokenCount = usage.PromptTokens + usage.CompletionTokens,
        AdditionalCounts = new() { [ChatResponseMapper.CachedTokensKey] = usage.CachedTokens },
    };
}
