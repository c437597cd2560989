using System.CommandLine;
using Fathom.Models;

namespace Fathom.Cli.Commands;

/// <summary>What <c>pull</c>, <c>list</c>, <c>rm</c> and every <c>--model</c> share: the store's folder and the pull's progress display.</summary>
internal static class ModelStoreSupport
{
    /// <summary>The <c>--models-dir</c> option: the store's folder instead of <c>FATHOM_MODELS</c> or <c>~/.cache/fathom/models</c>.</summary>
    public static Option<string?> StoreOption() => new("--models-dir")
    {
        Description = "The model store's folder (default: $FATHOM_MODELS, else ~/.cache/fathom/models).",
    };

    public static ModelStore Open(string? root, int? parallelRanges = null)
    {
        var options = new ModelStoreOptions { Root = string.IsNullOrWhiteSpace(root) ? null : root };
        return new ModelStore(parallelRanges is { } ranges ? options with { ParallelRanges = ranges } : options);
    }

    /// <summary>
    /// The file to load for a <c>--model</c> value: the path itself, or for a reference (<c>hf.co/ORG/REPO:QUANT</c>…)
    /// the stored model, pulled first (with progress on <paramref name="error"/>) when missing.
    /// </summary>
    public static string Resolve(string value, TextWriter error, string? root = null)
    {
        if (!ModelStore.IsReference(value))
        {
            return value;
        }

        using var store = Open(root);
        return store.ResolveAsync(value, Progress(error)).GetAwaiter().GetResult();
    }

    /// <summary>A bar redrawn in place on a terminal; plain lines every few seconds when the output is a file or a pipe.</summary>
    public static IProgress<PullProgress> Progress(TextWriter error) =>
        ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected ? new PullProgressBar(error) : new PullProgressLines(error, TimeSpan.FromSeconds(5));
}
