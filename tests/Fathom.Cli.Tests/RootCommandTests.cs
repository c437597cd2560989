namespace Fathom.Cli.Tests;

public sealed class RootCommandTests
{
    [Fact]
    public async Task Help_describes_fathom()
    {
        var (exit, output, _) = await CliRunner.RunAsync("--help");
        Assert.Equal(0, exit);
        Assert.Contains("Fathom", output);
    }

    [Fact]
    public async Task An_unknown_verb_fails_with_a_message()
    {
        var (exit, _, error) = await CliRunner.RunAsync("frobnicate");
        Assert.NotEqual(0, exit);
        Assert.Contains("frobnicate", error);
    }
}
