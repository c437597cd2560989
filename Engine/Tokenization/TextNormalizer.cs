using System.Text;
using System.Text.RegularExpressions;

namespace Fathom.Engine.Tokenization;

/// <summary>
/// Hugging Face normalizer steps applied in order to each piece of text between added tokens, before
/// pre-tokenizing: Unicode forms (<c>NFC</c>, <c>NFKC</c>, <c>NFD</c>, <c>NFKD</c>), <c>Lowercase</c>,
/// <c>Strip</c>, <c>Replace</c> of a literal string and <c>Prepend</c>. Immutable.
/// </summary>
public sealed class TextNormalizer
{
    private readonly Step[] _steps;

    private TextNormalizer(Step[] steps) => _steps = steps;

    /// <summary>A normalizer that applies <paramref name="form"/>.</summary>
    public static TextNormalizer Unicode(NormalizationForm form) => new([new Step(StepKind.Unicode, Form: form)]);

    /// <summary>A normalizer that lower-cases text (invariant culture, as Rust's <c>to_lowercase</c> for most scripts).</summary>
    public static TextNormalizer Lowercase { get; } = new([new Step(StepKind.Lowercase)]);

    /// <summary>A normalizer that removes whitespace at the start and/or end.</summary>
    public static TextNormalizer Strip(bool left, bool right) => new([new Step(StepKind.Strip, Left: left, Right: right)]);

    /// <summary>A normalizer that replaces every occurrence of <paramref name="pattern"/> with <paramref name="content"/>.</summary>
    public static TextNormalizer Replace(string pattern, string content)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        ArgumentNullException.ThrowIfNull(content);
        return new([new Step(StepKind.Replace, Pattern: pattern, Content: content)]);
    }

    /// <summary>A normalizer that replaces every match of the regular expression <paramref name="pattern"/> with <paramref name="content"/> (taken literally).</summary>
    /// <exception cref="ArgumentException">The expression is not valid.</exception>
    public static TextNormalizer ReplaceExpression(string pattern, string content)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        ArgumentNullException.ThrowIfNull(content);
        var expression = new Regex(pattern, RegexOptions.CultureInvariant, Regex.InfiniteMatchTimeout);
        return new([new Step(StepKind.Replace, Expression: expression, Content: content)]);
    }

    /// <summary>A normalizer that puts <paramref name="prefix"/> before non-empty text.</summary>
    public static TextNormalizer Prepend(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return new([new Step(StepKind.Prepend, Content: prefix)]);
    }

    /// <summary>The steps of <paramref name="normalizers"/> in turn (Hugging Face <c>Sequence</c>); null when there are none.</summary>
    public static TextNormalizer? Sequence(IEnumerable<TextNormalizer?> normalizers)
    {
        ArgumentNullException.ThrowIfNull(normalizers);
        var steps = normalizers.Where(n => n is not null).SelectMany(n => n!._steps).ToArray();
        return steps.Length == 0 ? null : new TextNormalizer(steps);
    }

    /// <summary>The only Unicode form this normalizer applies, when it does nothing else; null otherwise.</summary>
    public NormalizationForm? OnlyUnicodeForm => _steps is [{ Kind: StepKind.Unicode } only] ? only.Form : null;

    /// <summary>Whether a step puts text before the input (so an added token's own text is not the normalized text).</summary>
    public bool Prepends => _steps.Any(s => s.Kind == StepKind.Prepend);

    /// <summary>Normalizes <paramref name="text"/>.</summary>
    public string Apply(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var step in _steps)
        {
            text = step.Kind switch
            {
                StepKind.Unicode => text.IsNormalized(step.Form) ? text : text.Normalize(step.Form),
                StepKind.Lowercase => text.ToLowerInvariant(),
                StepKind.Strip => (step.Left, step.Right) switch
                {
                    (true, true) => text.Trim(),
                    (true, false) => text.TrimStart(),
                    (false, true) => text.TrimEnd(),
                    _ => text,
                },
                StepKind.Replace when step.Expression is { } expression => expression.Replace(text, step.Content!.Replace("$", "$$", StringComparison.Ordinal)),
                StepKind.Replace => text.Replace(step.Pattern!, step.Content, StringComparison.Ordinal),
                StepKind.Prepend => text.Length == 0 ? text : step.Content + text,
                _ => text,
            };
        }
        return text;
    }

    /// <summary>As <see cref="Apply"/>, without the <c>Prepend</c> steps (for added tokens' own texts).</summary>
    public string ApplyWithoutPrepend(string text)
    {
        var withoutPrepend = new TextNormalizer([.. _steps.Where(s => s.Kind != StepKind.Prepend)]);
        return withoutPrepend.Apply(text);
    }

    private enum StepKind
    {
        Unicode,
        Lowercase,
        Strip,
        Replace,
        Prepend,
    }

    private readonly record struct Step(
        StepKind Kind, NormalizationForm Form = NormalizationForm.FormC, bool Left = false, bool Right = false, string? Pattern = null, string? Content = null,
        Regex? Expression = null);
}
