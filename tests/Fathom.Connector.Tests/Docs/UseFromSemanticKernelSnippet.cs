using Microsoft.SemanticKernel;

namespace Fathom.Connector.Tests.Docs;

/// <summary>
/// The "Use from Semantic Kernel" example of docs/connector.md and the README, compiled and run here. The lines
/// between the markers must appear verbatim in the docs (checked by <see cref="DocsSnippetTests"/>).
/// </summary>
internal static class UseFromSemanticKernelSnippet
{
    public static async Task<string> RunAsync(Uri endpoint)
    {
        // <snippet>
        var kernel = Kernel.CreateBuilder()
            .AddFathomChatCompletion("deepseek-r1-distill-llama-70b", endpoint)
            .Build();

        var settings = new FathomPromptExecutionSettings { Temperature = 0.6f, MaxTokens = 512 };
        var answer = await kernel.InvokePromptAsync("Why is the sky blue?", new(settings));
        Console.WriteLine(answer);
        // </snippet>
        return answer.ToString();
    }
}
