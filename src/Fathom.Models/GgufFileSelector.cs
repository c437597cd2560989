using System.Text.RegularExpressions;

namespace Fathom.Models;

/// <summary>
/// Picks a GGUF model's files from a repository by quantization tag (case-insensitive; the file name, without
/// <c>.gguf</c> and the split suffix <c>-00001-of-00003</c>, ends in <c>-TAG</c> or <c>.TAG</c>, or the
/// file is in a folder named TAG), following every part of a split model. Without a tag: <c>Q4_K_M</c> when the
/// repository has it (as Ollama chooses), the only model when there is one, else an error that lists the tags.
/// Vision projectors (<c>mmproj*</c>) are never the model.
/// </summary>
internal static partial class GgufFileSelector
{
    public const string DefaultTag = "Q4_K_M";

    /// <summary>The chosen tag (as the file names spell it) and the files in part order.</summary>
    public static (string Tag, IReadOnlyList<HubFile> Files) Select(string reference, IReadOnlyList<HubFile> files, string? tag)
    {
        var models = files
            .Where(f => f.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)
                && !System.IO.Path.GetFileName(f.Path).StartsWith("mmproj", StringComparison.OrdinalIgnoreCase))
            .GroupBy(f => ModelKey(f.Path), StringComparer.OrdinalIgnoreCase)
            .Select(g => new Model(g.Key, TagOf(g.Key), [.. g.OrderBy(f => PartNumber(f.Path))]))
            .ToList();
        if (models.Count == 0)
        {
            throw new ModelNotFoundException($"{reference} has no .gguf files; for a safetensors repository pass ORG/REPO without hf.co/");
        }

        if (tag is null)
        {
            var preferred = models.Where(m => Matches(m.Key, DefaultTag)).ToList();
            if (preferred.Count == 1)
            {
                return Complete(reference, preferred[0]);
            }

            if (models.Count == 1)
            {
                return Complete(reference, models[0]);
            }

            throw new ModelNotFoundException(
                $"{reference} has several quantizations and no {DefaultTag}: add one of :{string.Join(", :", Tags(models))} to the reference");
        }

        var matching = models.Where(m => Matches(m.Key, tag)).ToList();
        return matching.Count switch
        {
            1 => Complete(reference, matching[0]),
            0 => throw new ModelNotFoundException(
                $"{reference} has no {tag} quantization; it has :{string.Join(", :", Tags(models))}"),
            _ => throw new ModelNotFoundException(
                $"{reference}:{tag} matches several files ({string.Join(", ", matching.Select(m => m.Key))}); name the quantization more exactly"),
        };
    }

    private static (string Tag, IReadOnlyList<HubFile> Files) Complete(string reference, Model model)
    {
        if (SplitPattern().Match(System.IO.Path.GetFileName(model.Files[0].Path)) is { Success: true } split)
        {
            int count = int.Parse(split.Groups["count"].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (model.Files.Count != count)
            {
                throw new ModelNotFoundException($"{reference}: {model.Key} is split into {count} parts but the repository has {model.Files.Count}");
            }
        }

        return (model.Tag, model.Files);
    }

    private static IEnumerable<string> Tags(IEnumerable<Model> models) =>
        models.Select(m => m.Tag).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase);

    private static bool Matches(string key, string tag)
    {
        string name = System.IO.Path.GetFileName(key);
        string? folder = System.IO.Path.GetDirectoryName(key)?.Replace('\\', '/').Split('/')[^1];
        return string.Equals(folder, tag, StringComparison.OrdinalIgnoreCase)
            || (name.Length > tag.Length && name.EndsWith(tag, StringComparison.OrdinalIgnoreCase) && name[^(tag.Length + 1)] is '-' or '.');
    }

    /// <summary>The path without <c>.gguf</c> and without a split suffix: all parts of one model share it.</summary>
    private static string ModelKey(string path)
    {
        string withoutExtension = path[..^".gguf".Length];
        var split = SplitPattern().Match(path);
        return split.Success ? path[..split.Index] : withoutExtension;
    }

    private static int PartNumber(string path) =>
        SplitPattern().Match(path) is { Success: true } m ? int.Parse(m.Groups["part"].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;

    /// <summary>The last <c>-</c>/<c>.</c>-separated word of the file name: what a user types after the colon.</summary>
    private static string TagOf(string key)
    {
        string name = System.IO.Path.GetFileName(key);
        int cut = name.LastIndexOfAny(['-', '.']);
        return cut >= 0 && cut < name.Length - 1 ? name[(cut + 1)..] : name;
    }

    [GeneratedRegex(@"-(?<part>\d{5})-of-(?<count>\d{5})\.gguf$", RegexOptions.IgnoreCase)]
    private static partial Regex SplitPattern();

    private sealed record Model(string Key, string Tag, IReadOnlyList<HubFile> Files);
}
