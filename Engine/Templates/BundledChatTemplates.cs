using System.Collections.Concurrent;

namespace Fathom.Engine.Templates;

/// <summary>
/// Chat templates Fathom ships (embedded resources under <c>Templates/Bundled</c>) for model families whose own
/// template cannot render tools, so that a request with tools reaches the model in its family's tool format.
/// </summary>
public static class BundledChatTemplates
{
    private const string ResourcePrefix = "Fathom.Engine.Templates.Bundled.";
    private static readonly ConcurrentDictionary<ChatTemplateFamily, ChatTemplate?> Cache = new();

    /// <summary>
    /// The tool-capable template for <paramref name="family"/>, or null when Fathom ships none for it. Only DeepSeek-R1
    /// (the distill family: its own template renders earlier calls and results but no tool definitions) has one.
    /// </summary>
    /// <param name="family">The model's chat format.</param>
    public static ChatTemplate? ForTools(ChatTemplateFamily family) => Cache.GetOrAdd(family, f => f switch
    {
        ChatTemplateFamily.DeepSeekR1 => ChatTemplate.Parse(Source("deepseek-r1-tools.jinja")),
        _ => null,
    });

    /// <summary>The text of a bundled template by file name (e.g. <c>deepseek-r1-tools.jinja</c>).</summary>
    /// <exception cref="FileNotFoundException">No bundled template has that name.</exception>
    public static string Source(string fileName)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        using Stream stream = typeof(BundledChatTemplates).Assembly.GetManifestResourceStream(ResourcePrefix + fileName)
            ?? throw new FileNotFoundException($"No bundled chat template is named '{fileName}'.", fileName);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
