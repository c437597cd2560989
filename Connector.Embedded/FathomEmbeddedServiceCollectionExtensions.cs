using Fathom.Models;
using Microsoft.Extensions.DependencyInjection;

namespace Fathom.Connector.Embedded;

/// <summary>
/// Registers Fathom with the model running in this process: the same <see cref="Microsoft.Extensions.AI.IChatClient"/>,
/// Semantic Kernel chat completion and text generation services as the HTTP connector's
/// <c>AddFathomChatCompletion</c>, over an in-process engine instead of a server.
/// </summary>
public static class FathomEmbeddedServiceCollectionExtensions
{
    /// <summary>
    /// Adds Fathom chat completion running the model in this process (no server): the GGUF file or Hugging Face model
    /// directory (config.json, safetensors, tokenizer files) at <paramref name="modelPath"/> is loaded on first use and served by an in-process continuous-batching engine
    /// with the same template, reasoning and tool-call handling as the engine service. A model reference
    /// (<c>hf.co/ORG/REPO:QUANT</c>, an https URL) is taken from the model store, pulled on first use when missing.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="modelPath">Path of a GGUF model file or a Hugging Face model directory, or a model reference.</param>
    /// <param name="modelId">The model name reported in responses; defaults to the file name without extension (a directory's name).</param>
    /// <param name="options">Threads and KV cache size.</param>
    /// <param name="serviceId">Key of the registered services, or <see langword="null"/> for unkeyed ones.</param>
    /// <returns>The service collection.</returns>
    /// <exception cref="FileNotFoundException">There is no file or directory at <paramref name="modelPath"/> and it is no model reference.</exception>
    public static IServiceCollection AddFathomEmbeddedChatCompletion(
        this IServiceCollection services, string modelPath, string? modelId = null, EmbeddedEngineOptions? options = null, string? serviceId = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        if (!File.Exists(modelPath) && !Directory.Exists(modelPath) && !ModelStore.IsReference(modelPath))
        {
            throw new FileNotFoundException($"No model file or directory at '{modelPath}'.", modelPath);
        }

        return services.AddFathomChatClientCore(serviceId, _ => EmbeddedChatClientFactory.Create(modelPath, modelId, options));
    }
}
