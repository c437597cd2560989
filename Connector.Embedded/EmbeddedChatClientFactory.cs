using Fathom.Engine.Serving;

namespace Fathom.Connector.Embedded;

/// <summary>Loads a GGUF file and starts an in-process engine for <see cref="EmbeddedChatClient"/>.</summary>
internal static class EmbeddedChatClientFactory
{
    public static EmbeddedChatClient Create(string modelPath, string? modelId, EmbeddedEngineOptions? options)
    {
        options ??= new EmbeddedEngineOptions();
        var model = ServedModel.Load(modelPath, new ServedModelOptions
        {
            Threads = options.Threads,
            KvCacheMemoryBytes = options.KvCacheMemoryBytes,
            MaxModelLength = options.MaxModelLength,
            ServedName = modelId,
            ChatTemplatePath = options.ChatTemplatePath,
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
