using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Fathom.Connector.Wire;

/// <summary>Turns OpenAI response bodies into Microsoft.Extensions.AI responses.</summary>
internal static class ChatResponseMapper
{
    /// <summary>Key under which <c>usage.prompt_tokens_details.cached_tokens</c> appears in <see cref="UsageDetails.AdditionalCounts"/>.</summary>
    public const string CachedTokensKey = "prompt_tokens_details.cached_tokens";

    /// <summary>Key under which <c>usage.completion_tokens_details.reasoning_tokens</c> appears in <see cref="UsageDetails.AdditionalCounts"/>.</summary>
    public const string ReasoningTokensKey = "completion_tokens_details.reasoning_tokens";

    public static ChatResponse ToChatResponse(ChatCompletionResponse completion)
    {
        var choice = completion.Choices?.FirstOrDefault(c => c.Index == 0) ?? completion.Choices?.FirstOrDefault();
        var contents = new List<AIContent>();
        if (choice?.Message is { } message)
        {
            if ((message.ReasoningContent ?? message.Reasoning) is { Length: > 0 } reasoning)
            {
                contents.Add(new TextReasoningContent(reasoning));
            }

            if (message.Content is { Length: > 0 } text)
            {
                contents.Add(new TextContent(text));
            }

            foreach (var call in message.ToolCalls ?? [])
            {
                contents.Add(ToFunctionCall(call.Id, call.Function?.Name, call.Function?.Arguments));
            }
        }

        var chatMessage = new ChatMessage(ChatRole.Assistant, contents)
        {
            MessageId = completion.Id,
        };

        return new ChatResponse(chatMessage)
        {
            ResponseId = completion.Id,
            ModelId = completion.Model,
            CreatedAt = ToCreatedAt(completion.Created),
            FinishReason = ToFinishReason(choice?.FinishReason),
            Usage = ToUsage(completion.Usage),
            RawRepresentation = completion,
        };
    }

    public static FunctionCallContent ToFunctionCall(string? id, string? name, string? arguments)
    {
        var callId = string.IsNullOrEmpty(id) ? $"call_{Guid.NewGuid():N}" : id;
        var json = string.IsNullOrWhiteSpace(arguments) ? "{}" : arguments;

        // A model can emit malformed arguments; the parse error is kept on the content (and reported back to the
        // model by the function-invoking layer) instead of failing the whole response.
        return FunctionCallContent.CreateFromParsedArguments(
            json, callId, name ?? string.Empty, static text => JsonSerializer.Deserialize(text, ArgumentsTypeInfo));
    }

    public static ChatFinishReason? ToFinishReason(string? reason) => reason switch
    {
        null or "" => null,
        "stop" => ChatFinishReason.Stop,
        "length" => ChatFinishReason.Length,
        "tool_calls" or "function_call" => ChatFinishReason.ToolCalls,
        "content_filter" => ChatFinishReason.ContentFilter,
        _ => new ChatFinishReason(reason),
    };

    public static UsageDetails? ToUsage(WireUsage? usage)
    {
        if (usage is null)
        {
            return null;
        }

        var details = new UsageDetails
        {
            InputTokenCount = usage.PromptTokens,
            OutputTokenCount = usage.CompletionTokens,
            TotalTokenCount = usage.TotalTokens ?? usage.PromptTokens + usage.CompletionTokens,
        };

        if (usage.PromptTokensDetails?.CachedTokens is { } cached)
        {
            details.CachedInputTokenCount = cached;
            (details.AdditionalCounts ??= [])[CachedTokensKey] = cached;
        }

        if (usage.CompletionTokensDetails?.ReasoningTokens is { } reasoning)
        {
            details.ReasoningTokenCount = reasoning;
            (details.AdditionalCounts ??= [])[ReasoningTokensKey] = reasoning;
        }

        return details;
    }

    public static DateTimeOffset? ToCreatedAt(long? unixSeconds) =>
        unixSeconds is { } seconds and > 0 ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;

    private static System.Text.Json.Serialization.Metadata.JsonTypeInfo<IDictionary<string, object?>> ArgumentsTypeInfo =>
        (System.Text.Json.Serialization.Metadata.JsonTypeInfo<IDictionary<string, object?>>)
        AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>));
}
