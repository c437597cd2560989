using System.CommandLine;
using Fathom.Cli.Commands;
using Fathom.Cli.Commands.Chat;

namespace Fathom.Cli;

/// <summary>The root of the <c>fathom</c> command line; each verb lives in its own file.</summary>
internal static class FathomCommand
{
    public static RootCommand Create()
    {
        var root = new RootCommand("Fathom: self-hosted LLM serving for .NET — inspect, tokenize, generate, benchmark and plan.");
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(PlanCommand.Create());
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(SyntheticCommand.Create());
        root.Subcommands.Add(DeviceBenchCommand.Create());
        root.Subcommands.Add(DeviceCompareCommand.Create());
        BenchServeCommand.AddTo(root);
        root.Subcommands.Add(ChatCommand.Create());
        ModelStoreCommands.AddTo(root);
        return root;
    }
}
