using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Fathom.Models;

/// <summary>
/// A model named the way <c>fathom pull</c> takes it: <c>hf.co/ORG/REPO:QUANT</c> (a GGUF repository and the
/// quantization to take from it; without <c>:QUANT</c> a default is chosen), <c>ORG/REPO</c> (a safetensors
/// directory) or an <c>https://</c> URL of one file.
/// </summary>
public sealed partial record ModelReference
{
    private ModelReference(ModelReferenceKind kind, string? repository, string? tag, Uri? url)
    {
        Kind = kind;
        Repository = repository;
        Tag = tag;
        Url = url;
    }

    /// <summary>What the reference names.</summary>
    public ModelReferenceKind Kind { get; }

    /// <summary><c>ORG/REPO</c> for hub references; null for URLs.</summary>
    public string? Repository { get; }

    /// <summary>The quantization tag (e.g. <c>Q4_K_M</c>) of a GGUF reference, or null for the default.</summary>
    public string? Tag { get; }

    /// <summary>The address of a URL reference.</summary>
    public Uri? Url { get; }

    /// <summary>The same GGUF reference with <paramref name="tag"/> chosen.</summary>
    public ModelReference WithTag(string tag) => new(Kind, Repository, tag, Url);

    /// <summary>Parses <paramref name="text"/>; throws <see cref="ArgumentException"/> naming the accepted forms when it is none of them.</summary>
    public static ModelReference Parse(string text) =>
        TryParse(text, out var reference) ? reference
            : throw new ArgumentException(
                $"'{text}' is not a model reference: use hf.co/ORG/REPO:QUANT (a GGUF repository), ORG/REPO (safetensors) or an https:// URL",
                nameof(text));

    /// <summary>True when <paramref name="text"/> is a reference; a path ending in <c>.gguf</c> never is one.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out ModelReference? reference)
    {
        reference = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (text.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            if (Uri.TryCreate(text, UriKind.Absolute, out var url) && url.AbsolutePath.Trim('/').Length > 0)
            {
                reference = new ModelReference(ModelReferenceKind.Url, null, null, url);
                return true;
            }

            return false;
        }

        foreach (string prefix in HubPrefixes)
        {
            if (text.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                string rest = text[prefix.Length..];
                string? tag = null;
                int colon = rest.IndexOf(':', StringComparison.Ordinal);
                if (colon >= 0)
                {
                    tag = rest[(colon + 1)..];
                    rest = rest[..colon];
                    if (!TagPattern().IsMatch(tag))
                    {
                        return false;
                    }
                }

                if (!IsRepositoryId(rest))
                {
                    return false;
                }

                reference = new ModelReference(ModelReferenceKind.GgufRepository, rest, tag, null);
                return true;
            }
        }

        if (IsRepositoryId(text) && !text.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)
            && !text.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            reference = new ModelReference(ModelReferenceKind.SafetensorsRepository, text, null, null);
            return true;
        }

        return false;
    }

    /// <summary>The canonical text: <c>hf.co/ORG/REPO:QUANT</c>, <c>ORG/REPO</c> or the URL.</summary>
    public override string ToString() => Kind switch
    {
        ModelReferenceKind.GgufRepository => Tag is null ? $"hf.co/{Repository}" : $"hf.co/{Repository}:{Tag}",
        ModelReferenceKind.SafetensorsRepository => Repository!,
        _ => Url!.ToString(),
    };

    /// <summary>Where in the store this reference lives, relative to the root (a GGUF reference needs its tag).</summary>
    internal string StoreDirectory => Kind switch
    {
        ModelReferenceKind.GgufRepository => Path.Combine(RepositoryDirectory, "gguf",
            (Tag ?? throw new InvalidOperationException("a GGUF reference needs its tag resolved first")).ToUpperInvariant()),
        ModelReferenceKind.SafetensorsRepository => Path.Combine(RepositoryDirectory, "safetensors"),
        _ => Path.Combine(["url", Sanitize(Url!.Authority), .. Url.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries)
            .SkipLast(1).Select(Sanitize)]),
    };

    /// <summary>The file name a URL reference is stored under.</summary>
    internal string UrlFileName => Sanitize(Uri.UnescapeDataString(Url!.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries)[^1]));

    /// <summary>The folder of all of a hub repository's stored variants.</summary>
    internal string RepositoryDirectory
    {
        get
        {
            string[] parts = Repository!.ToLowerInvariant().Split('/');
            return Path.Combine("hf.co", parts[0], parts[1]);
        }
    }

    private static readonly string[] HubPrefixes = ["hf.co/", "huggingface.co/"];

    private static bool IsRepositoryId(string text) =>
        RepositoryPattern().IsMatch(text) && !text.Contains("..", StringComparison.Ordinal) && !text.Contains("--", StringComparison.Ordinal);

    private static string Sanitize(string segment)
    {
        var chars = segment.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_').ToArray();
        string result = new(chars);
        return result is "." or ".." ? string.Create(CultureInfo.InvariantCulture, $"_{result}") : result;
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex TagPattern();
}
