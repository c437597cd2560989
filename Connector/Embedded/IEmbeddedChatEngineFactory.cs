using Microsoft.Extensions.AI;

namespace Fathom.Connector.Embedded;

/// <summary>
/// The seam for embedded mode (<c>AddFathomChatCompletion(modelPath: ...)</c>: the engine runs in-process, no
/// server). Not implemented yet: it needs the serving engine (scheduler, sampler, chat templates, reasoning and
/// tool-call parsing), which does not exist yet.
/// </summary>
/// <remarks>
/// The plan: an implementation in Fathom.Engine's serving layer loads the GGUF at <c>modelPath</c> and returns an
/// <see cref="IChatClient"/> that submits requests to the in-process scheduler and maps its token stream to the same
/// contents <see cref="FathomChatClient"/> produces (answer text, <see cref="TextReasoningContent"/>, function calls,
/// usage with cached tokens, finish reason). The public overload then registers it through
/// <c>FathomServiceCollectionExtensions.AddFathomChatClientCore</c>, so Semantic Kernel's function invocation,
/// <c>IChatCompletionService</c> and <c>ITextGenerationService</c> are shared with the HTTP transport. The acceptance
/// test is "embedded mode produces the same text as the server at temperature 0".
/// </remarks>
internal interface IEmbeddedChatEngineFactory
{
    /// <summary>Loads the model at <paramref name="modelPath"/> and returns a chat client over the in-process engine.</summary>
    /// <param name="modelPath">Path of a GGUF file.</param>
    /// <param name="modelId">The model name reported in responses and metadata.</param>
    /// <param name="services">The application's services (logging, metrics, configuration).</param>
    IChatClient Create(string modelPath, string modelId, IServiceProvider services);
}
