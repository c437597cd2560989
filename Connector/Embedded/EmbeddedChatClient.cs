using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Fathom.Connector.Wire;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Templates;
using Fathom.Engine.Templates.Reasoning;
using Fathom.Engine.Templates.Tools;
using Microsoft.Extensions.AI;
using EngineChatMessage = Fathom.Engine.Templates.ChatMessage;
using MeaiChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Fathom.Connector.Embedded;

/// <summary>
/// An <see cref="IChatClient"/> over an engine running in this process: the GGUF's chat template renders the
/// messages (and tools), the continuous-batching engine generates, and the answer is split the way the engine
/// service splits it (DeepSeek-R1 reasoning, template tool calls), so embedded and server modes answer alike.
/// </summary>
internal sealed class EmbeddedChatClient : IChatClient
{
    private readonly ServedModel _model;
    private readonly EngineHost _engine;
    private readonly ChatClientMetadata _metadata;

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
        var (outputs, toolParser) = await SubmitAsync(messages, options, cancellationToken).ConfigureAwait(false);
        var text = new StringBuilder();
        FinishReason? finish = null;
        await foreach (var output in outputs.Outputs.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            text.Append(output.Text);
            finish = output.FinishReason ?? finish;
        }

        var split = _model.ReasoningParser?.Parse(text.ToString()) ?? new ReasoningResult(null, text.ToString());
        var contents = new List<AIContent>();
        if (!string.IsNullOrEmpty(split.ReasoningContent))
        {
            contents.Add(new TextReasoningContent(split.ReasoningContent));
        }

        var answer = split.Content ?? "";
        var calls = toolParser?.Parse(answer);
        if (calls is { HasToolCalls: true })
        {
            answer = calls.Content ?? "";
        }

        if (answer.Length > 0 || calls is not { HasToolCalls: true })
        {
            contents.Add(new TextContent(answer));
        }

        foreach (var call in calls?.ToolCalls ?? [])
        {
            contents.Add(ChatResponseMapper.ToFunctionCall(call.Id, call.Name, call.Arguments));
        }

        return new ChatResponse(new MeaiChatMessage(ChatRole.Assistant, contents))
        {
            ResponseId = outputs.RequestId,
            ModelId = ModelId,
            CreatedAt = DateTimeOffset.UtcNow,
            FinishReason = calls is { HasToolCalls: true } ? ChatFinishReason.ToolCalls : ToFinishReason(finish),
            Usage = ToUsage(outputs.Usage),
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<MeaiChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (outputs, toolParser) = await SubmitAsync(messages, options, cancellationToken).ConfigureAwait(false);
        var reasoning = _model.ReasoningParser?.CreateStreamingParser();
        var tools = toolParser?.CreateStreamingParser();
        var sawToolCall = false;
        await foreach (var output in outputs.Outputs.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            bool last = output.FinishReason is not null;
            var delta = reasoning?.Push(output.Text, last) ?? new ReasoningResult(null, output.Text);

            var contents = new List<AIContent>();
            if (!string.IsNullOrEmpty(delta.ReasoningContent))
            {
                contents.Add(new TextReasoningContent(delta.ReasoningContent));
            }

            var content = delta.Content ?? "";
            if (tools is not null)
            {
                var parsed = tools.Push(content, last);

                content = parsed.Content ?? "";
                foreach (var call in parsed.ToolCalls)
                {
                    sawToolCall = true;
                    contents.Add(ChatResponseMapper.ToFunctionCall(call.Id, call.Name, call.Arguments));
                }
            }

            if (content.Length > 0)
            {
                contents.Insert(contents.Count - contents.OfType<FunctionCallContent>().Count(), new TextContent(content));
            }

            if (output.FinishReason is null && contents.Count == 0)
            {
                continue;
            }

            yield return new ChatResponseUpdate(ChatRole.Assistant, contents)
            {
                ResponseId = outputs.RequestId,
                ModelId = ModelId,
                CreatedAt = DateTimeOffset.UtcNow,
                FinishReason = output.FinishReason is null ? null : sawToolCall ? ChatFinishReason.ToolCalls : ToFinishReason(output.FinishReason),
            };
        }

        if (ToUsage(outputs.Usage) is { } usage)
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(usage)]) { ResponseId = outputs.RequestId, ModelId = ModelId };
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
        _engine.Dispose();
        _model.Dispose();
    }

    private async Task<(GenerationOutputs Outputs, IToolCallParser? Tools)> SubmitAsync(IEnumerable<MeaiChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var template = _model.ChatFormat.Template;
        var renderOptions = _model.ChatFormat.RenderOptions();
        IToolCallParser? toolParser = null;
        if (options?.Tools is { Count: > 0 } && options.ToolMode is not NoneChatToolMode)
        {
            var tools = options.Tools.OfType<AIFunctionDeclaration>().Select(ToolJson).ToArray();
            if (tools.Length > 0)
            {
                renderOptions = _model.ChatFormat.RenderOptions(tools: tools);
                toolParser = template.CreateToolCallParser();
            }
        }

        var prompt = _model.EncodeChat([.. messages.SelectMany(ToEngineMessages)], renderOptions);
        var sampling = ToSampling(options);
        if (template.StopStrings is { Count: > 0 } templateStops)
        {
            sampling = sampling with { Stop = [.. sampling.Stop ?? [], .. templateStops] };
        }

        // The host makes the id unique.
        return (await _engine.SubmitAsync(new EngineRequest("chatcmpl-embedded", prompt, sampling), cancellationToken).ConfigureAwait(false), toolParser);
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

    private static ChatFinishReason? ToFinishReason(FinishReason? reason) => reason switch
    {
        null => null,
        FinishReason.Length => ChatFinishReason.Length,
        FinishReason.Abort => new ChatFinishReason("abort"),
        _ => ChatFinishReason.Stop,
    };

    private static UsageDetails? ToUsage(GenerationUsage? usage) => usage is null ? null : new UsageDetails
    {
        InputTokenCount = usage.PromptTokens,
        OutputTokenCount = usage.CompletionTokens,
        TotalTokenCount = usage.PromptTokens + usage.CompletionTokens,
        AdditionalCounts = new() { [ChatResponseMapper.CachedTokensKey] = usage.CachedTokens },
    };
}
