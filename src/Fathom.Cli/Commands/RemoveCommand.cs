using System.CommandLine;
using Fathom.Models;

namespace Fathom.Cli.Commands;

/// <summary><c>fathom rm MODEL</c>: deletes a model (and any partial download of it) from the store.</summary>
internal static class RemoveCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The reference it was pulled as, e.g. hf.co/ORG/REPO:QUANT." };
        var store = ModelStoreSupport.StoreOption();
        var command = new Command("rm", "Remove a model from the model store.") { model, store };
        command.SetAction(r => Run(r.GetRequiredValue(model), r.GetValue(store), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(string text, string? root, TextWriter output, TextWriter error)
    {
        try
        {
            var reference = ModelReference.Parse(text);
            using var store = ModelStoreSupport.Open(root);
            string name = store.Find(reference)?.Reference ?? reference.ToString();
            if (!store.Remove(reference))
            {
                throw new ArgumentException($"{reference} is not in the model store ({store.Root}); see fathom list");
            }

            output.WriteLine($"removed {name}");
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            return ModelCommandSupport.Fail(error, "rm", e);
        }
    }
}
