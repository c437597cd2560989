using Fathom.Engine.Serving;
using Fathom.Models;

namespace Fathom.Connector.Embedded;

/// <summary>Loads a GGUF file or a Hugging Face model directory (a reference: from the model store, pulled when missing) and starts an in-process engine for <see cref="EmbeddedChatClient"/>.</summary>
internal static class EmbeddedChatClientFactory
{
    public static EmbeddedChatClient Create(string modelPath, string? modelId, EmbeddedEngineOptions? options)
    {
        options ??= new EmbeddedEngineOptions();
        if (ModelStore.IsReference(modelPath))
        {
            using var store = new ModelStore(options.ModelStore);
            modelPath = store.ResolveAsync(modelPath, options.PullProgress).GetAwaiter().GetResult();
        }

        var model = ServedModel.Load(modelPath, new ServedModelOptions
        {
            Threads = options.Threads,
            KvCacheMemoryBytes = options.KvCacheMemoryBytes,
            MaxModelLength = options.MaxModelLength,
            ServedName = modelId,
            ChatTemplatePath = options.ChatTemplatePath,
            Quantization = options.Quantization,
        });
        try
        {
            return new EmbeddedChatClient(model, EngineHostFactory.Create(model), model.Name);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
