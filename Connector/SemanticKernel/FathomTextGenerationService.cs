using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.Services;
using Microsoft.SemanticKernel.TextGeneration;
using SkTextContent = Microsoft.SemanticKernel.TextContent;

namespace Fathom.Connector;

/// <summary>
/// Semantic Kernel text generation over a chat client: the prompt goes as one user message (the server applies
/// the model's chat template), the answer comes back as text; reasoning is left out of the text.
/// </summary>
internal sealed class FathomTextGenerationService : ITextGenerationService
{
    private readonly IChatClient _chatClient;

    public FathomTextGenerationService(IChatClient chatClient)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        _chatClient = chatClient;
        var attributes = new Dictionary<string, object?>();
        if (chatClient.GetService<ChatClientMetadata>() is { } metadata)
        {
            attributes[AIServiceExtensions.ModelIdKey] = metadata.DefaultModelId;
            attributes[AIServiceExtensions.EndpointKey] = metadata.ProviderUri?.ToString();
        }

        Attributes = attributes;
    }

    public IReadOnlyDictionary<string, object?> Attributes { get; }

    public async Task<IReadOnlyList<SkTextContent>> GetTextContentsAsync(
        string prompt, PromptExecutionSettings? executionSettings = null, Kernel? kernel = null, CancellationToken cancellationToken = default)
    {
        var response = await _chatClient.GetResponseAsync(
            [new ChatMessage(ChatRole.User, prompt)], executionSettings.ToChatOptions(kernel), cancellationToken);
        return [new SkTextContent(response.Text, response.ModelId, innerContent: response, metadata: Metadata(response.FinishReason, response.Usage))];
    }

    public async IAsyncEnumerable<StreamingTextContent> GetStreamingTextContentsAsync(
        string prompt, PromptExecutionSettings? executionSettings = null, Kernel? kernel = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var update in _chatClient.GetStreamingResponseAsync(
            [new ChatMessage(ChatRole.User, prompt)], executionSettings.ToChatOptions(kernel), cancellationToken))
        {
            var text = string.Concat(update.Contents.OfType<Microsoft.Extensions.AI.TextContent>().Select(c => c.Text));
            var usage = update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details;
            if (text.Length == 0 && update.FinishReason is null && usage is null)
            {
                continue;
            }

            yield return new StreamingTextContent(text, modelId: update.ModelId, innerContent: update, metadata: Metadata(update.FinishReason, usage));
        }
    }

    private static Dictionary<string, object?>? Metadata(ChatFinishReason? finishReason, UsageDetails? usage)
    {
        if (finishReason is null && usage is null)
        {
            return null;
        }

        return new Dictionary<string, object?>
        {
            ["FinishReason"] = finishReason?.Value,
            ["Usage"] = usage,
        };
    }
}
