using Microsoft.SemanticKernel;

namespace Fathom.Connector.Embedded;

/// <summary>Adds Fathom chat completion with the model running in this process to a Semantic Kernel <see cref="IKernelBuilder"/>.</summary>
public static class FathomEmbeddedKernelBuilderExtensions
{
    /// <summary>Adds Fathom chat completion running the model in this process (no server); see the service-collection overload.</summary>
    /// <param name="builder">The kernel builder.</param>
    /// <param name="modelPath">Path of a GGUF model file or a Hugging Face model directory, or a model reference (<c>hf.co/ORG/REPO:QUANT</c>) pulled on first use.</param>
    /// <param name="modelId">The model name reported in responses; defaults to the file name without extension.</param>
    /// <param name="options">Threads and KV cache size.</param>
    /// <param name="serviceId">Key of the registered services, or <see langword="null"/> for unkeyed ones.</param>
    /// <returns>The kernel builder.</returns>
    /// <exception cref="FileNotFoundException">There is no file or directory at <paramref name="modelPath"/> and it is no model reference.</exception>
    public static IKernelBuilder AddFathomEmbeddedChatCompletion(
        this IKernelBuilder builder, string modelPath, string? modelId = null, EmbeddedEngineOptions? options = null, string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddFathomEmbeddedChatCompletion(modelPath, modelId, options, serviceId);
        return builder;
    }
}
