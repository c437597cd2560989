using Fathom.Gguf;

namespace Fathom.Testing;

/// <summary>
/// A temporary copy of a GGUF model with another chat template in its metadata (e.g. stories260K speaking
/// DeepSeek-R1's format), written with the project's own <see cref="GgufWriter"/>; deleted on dispose.
/// </summary>
public sealed class GgufTemplateCopy : IDisposable
{
    /// <summary>The metadata key of a GGUF's Jinja chat template.</summary>
    public const string ChatTemplateKey = "tokenizer.chat_template";

    /// <summary>DeepSeek-R1-Distill-Llama-70B's chat template in the shared fixtures (read in place, never copied into the repository).</summary>
    public const string DeepSeekR1Template = "deepseek-r1-distill-llama-70b/chat_template.jinja";

    private GgufTemplateCopy(string path) => Path = path;

    /// <summary>The copy's file.</summary>
    public string Path { get; }

    /// <summary>
    /// stories260K with DeepSeek-R1's chat template: the template's generation prompt opens <c>&lt;think&gt;</c> and the
    /// story model never closes it, so everything it writes is reasoning.
    /// </summary>
    public static GgufTemplateCopy DeepSeekR1Stories()
    {
        var template = File.ReadAllText(SharedFixtures.Default.GetPath(DeepSeekR1Template));
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fathom-r1-stories-{Guid.NewGuid():N}.gguf");
        Write(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), template, path);
        return new GgufTemplateCopy(path);
    }

    /// <summary>Writes a copy of <paramref name="source"/> to <paramref name="destination"/> with <paramref name="template"/> as its chat template.</summary>
    public static void Write(string source, string template, string destination)
    {
        using var file = GgufFile.Open(source);
        var writer = new GgufWriter();
        foreach (var (key, value) in file.Metadata)
        {
            // The writer sets its own alignment.
            if (key != ChatTemplateKey && key != "general.alignment")
            {
                writer.AddMetadata(key, value);
            }
        }

        writer.AddMetadata(ChatTemplateKey, template);
        foreach (var tensor in file.Tensors)
        {
            writer.AddTensor(tensor.Name, tensor.Type, tensor.Dimensions, file.GetTensorBytes(tensor));
        }

        writer.WriteTo(destination);
    }

    /// <inheritdoc/>
    public void Dispose() => File.Delete(Path);
}
