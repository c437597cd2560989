using Microsoft.Extensions.AI;

namespace Fathom.Connector.Wire;

/// <summary>Turns one streamed chunk into the <see cref="ChatResponseUpdate"/>s it carries.</summary>
internal static class StreamingUpdateMapper
{
    public static IEnumerable<ChatResponseUpdate> ToUpdates(ChatCompletionChunk chunk, StreamingToolCallAssembler toolCalls)
    {
        var createdAt = ChatResponseMapper.ToCreatedAt(chunk.Created);
        foreach (var choice in chunk.Choices ?? [])
        {
            // Only the first choice is surfaced: IChatClient has no notion of n > 1 alternatives in one stream.
            if (choice.Index != 0)
            {
                continue;
            }

            var contents = new List<AIContent>();
            if (choice.Delta is { } delta)
            {
                if ((delta.ReasoningContent ?? delta.Reasoning) is { Length: > 0 } reasoning)
                {
                    contents.Add(new TextReasoningContent(reasoning));
                }

                if (delta.Content is { Length: > 0 } text)
                {
                    contents.Add(new TextContent(text));
                }

                foreach (var call in delta.ToolCalls ?? [])
                {
                    toolCalls.Add(call);
                }
            }

            var finishReason = ChatResponseMapper.ToFinishReason(choice.FinishReason);
            if (finishReason is not null && toolCalls.HasCalls)
            {
                contents.AddRange(toolCalls.Complete());
            }

            if (contents.Count == 0 && finishReason is null && choice.Delta?.Role is null)
            {
                continue;
            }

            yield return new ChatResponseUpdate(ChatRole.Assistant, contents)
            {
                ResponseId = chunk.Id,
                MessageId = chunk.Id,
                ModelId = chunk.Model,
                CreatedAt = createdAt,
                FinishReason = finishReason,
                RawRepresentation = chunk,
            };
        }

        if (ChatResponseMapper.ToUsage(chunk.Usage) is { } usage)
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(usage)])
            {
                ResponseId = chunk.Id,
                MessageId = chunk.Id,
                ModelId = chunk.Model,
                CreatedAt = createdAt,
                RawRepresentation = chunk,
            };
        }
    }
}
