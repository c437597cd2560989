using System.CommandLine;
using System.Globalization;
using Fathom.Models;

namespace Fathom.Cli.Commands;

/// <summary><c>fathom list</c>: the models in the store, one per line (reference, size, when pulled, path).</summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var store = ModelStoreSupport.StoreOption();
        var command = new Command("list", "List the models in the model store.") { store };
        command.SetAction(r => Run(r.GetValue(store), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(string? root, TextWriter output, TextWriter error)
    {
        try
        {
            using var store = ModelStoreSupport.Open(root);
            var models = store.List();
            if (models.Count == 0)
            {
                error.WriteLine($"no models in {store.Root}; add one with: fathom pull hf.co/ORG/REPO:QUANT");
                return 0;
            }

            var table = new TextTable("MODEL", "SIZE", "<PULLED", "<PATH");
            foreach (var m in models)
            {
                table.Add(m.Reference, ModelStore.FormatBytes(m.SizeBytes),
                    m.Pulled.ToLocalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), m.Path);
            }

            table.WriteTo(output);
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ModelCommandSupport.Fail(error, "list", e);
        }
    }
}
