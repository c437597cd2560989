using System.Text.RegularExpressions;
using Fathom.Connector.Tests.Support;
using Fathom.Testing;

namespace Fathom.Connector.Tests.Docs;

public sealed partial class DocsSnippetTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_documented_example_runs_against_a_server()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Text: "Rayleigh scattering.", Reasoning: "Blue light scatters more."));

        var answer = await UseFromSemanticKernelSnippet.RunAsync(server.BaseAddress);

        Assert.Equal("Rayleigh scattering.", answer);
        var request = Assert.Single(server.Requests);
        Assert.Equal(0.6, (double)request["temperature"]!, 5);
        Assert.Equal(512, (int)request["max_tokens"]!);
    }

    [Theory]
    [InlineData("docs/connector.md")]
    [InlineData("README.md")]
    public void The_docs_show_the_compiled_code_verbatim(string document)
    {
        var source = File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "tests/Fathom.Connector.Tests/Docs/UseFromSemanticKernelSnippet.cs"));
        var snippet = Dedent(SnippetRegion().Match(source).Groups["code"].Value);
        Assert.NotEmpty(snippet);

        var markdown = File.ReadAllText(Path.Combine(RepositoryRoot.Find(), document)).ReplaceLineEndings("\n");
        var section = markdown.IndexOf("Use from Semantic Kernel", StringComparison.Ordinal);
        Assert.True(section >= 0, $"{document} has no 'Use from Semantic Kernel' section");
        var blocks = CSharpBlock().Matches(markdown[section..]).Select(m => m.Groups["code"].Value);
        Assert.Contains(blocks, block => block.Contains(snippet, StringComparison.Ordinal));
    }

    private static string Dedent(string code)
    {
        var lines = code.ReplaceLineEndings("\n").Trim('\n').Split('\n');
        var indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }

    [GeneratedRegex(@"// <snippet>\n(?<code>.*?)\n\s*// </snippet>", RegexOptions.Singleline)]
    private static partial Regex SnippetRegion();

    [GeneratedRegex(@"```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
