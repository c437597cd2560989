using System.CommandLine;
using Fathom.Models;

namespace Fathom.Cli.Commands;

/// <summary>
/// <c>fathom pull MODEL</c>: downloads <c>hf.co/ORG/REPO:QUANT</c>, <c>ORG/REPO</c> or a URL into the model store,
/// resuming an interrupted pull and checking each file's SHA-256; prints the path to load.
/// </summary>
internal static class PullCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "hf.co/ORG/REPO:QUANT (GGUF), ORG/REPO (safetensors) or an https:// URL." };
        var store = ModelStoreSupport.StoreOption();
        var parallel = new Option<int>("--parallel")
        {
            Description = "HTTP ranges downloaded at once for a large file.",
            DefaultValueFactory = _ => new ModelStoreOptions().ParallelRanges,
        };
        var command = new Command("pull", "Download a model from the Hugging Face hub (HF_ENDPOINT, HF_TOKEN) or a URL into the model store.")
        {
            model, store, parallel,
        };
        command.SetAction((r, cancellationToken) => RunAsync(
            r.GetRequiredValue(model), r.GetValue(store), r.GetValue(parallel), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(string text, string? root, int parallel, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            if (parallel < 1)
            {
                throw new ArgumentException($"--parallel must be at least 1, not {parallel}");
            }

            var reference = ModelReference.Parse(text);
            using var store = ModelStoreSupport.Open(root, parallel);
            var model = await store.PullAsync(reference, ModelStoreSupport.Progress(error), cancellationToken);
            output.WriteLine($"{model.Reference} {ModelStore.FormatBytes(model.SizeBytes)} {model.Path}");
            return 0;
        }
        catch (Exception e) when (e is ModelPullException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            return ModelCommandSupport.Fail(error, "pull", e);
        }
    }
}
