using System.CommandLine;

namespace Fathom.Cli.Commands;

/// <summary>The model store's verbs: <c>pull</c>, <c>list</c>, <c>rm</c>.</summary>
internal static class ModelStoreCommands
{
    public static void AddTo(RootCommand root)
    {
        root.Subcommands.Add(PullCommand.Create());
        root.Subcommands.Add(ListCommand.Create());
        root.Subcommands.Add(RemoveCommand.Create());
    }
}
