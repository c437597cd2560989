using Fathom.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using SkKernel = Microsoft.SemanticKernel.Kernel;

namespace Fathom.Connector.Embedded.Tests;

/// <summary>
/// Embedded mode given a Hugging Face model directory (synthetic Llama-3 weights, the real Llama-3.1 tokenizer files):
/// it loads in-process, with the directory's tokenizer and chat template, and answers as the engine service serving
/// the same directory does through the HTTP connector.
/// </summary>
public sealed class EmbeddedModelDirectoryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fathom-embedded-dir-").FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_directory_loads_in_process_and_answers_as_the_engine_service_does()
    {
        var dir = Path.Combine(_root, "llama3-tiny");
        SyntheticLlama3Directory.Write(dir, maxShardBytes: 8 << 20);
        await using var engine = await EngineServiceProcess.StartAsync(model: dir);
        var server = SkKernel.CreateBuilder().AddFathomChatCompletion("llama3-tiny", engine.BaseAddress).Build();
        var embedded = SkKernel.CreateBuilder().AddFathomEmbeddedChatCompletion(dir, options: new() { Threads = 1 }).Build();
        try
        {
            var greedy = new KernelArguments(new FathomPromptExecutionSettings { Temperature = 0, MaxTokens = 12 });
            var expected = (await server.InvokePromptAsync("Hello", greedy, cancellationToken: Ct)).GetValue<string>();
            var actual = (await embedded.InvokePromptAsync("Hello", greedy, cancellationToken: Ct)).GetValue<string>();
            Assert.False(string.IsNullOrEmpty(actual));
            Assert.Equal(expected, actual);

            var client = embedded.Services.GetRequiredService<IChatClient>();
            var response = await client.GetResponseAsync("Hello", new ChatOptions { Temperature = 0, MaxOutputTokens = 3 }, Ct);
            Assert.Equal("llama3-tiny", response.ModelId);
            Assert.Equal(3, response.Usage?.OutputTokenCount);
            // The Llama 3.1 template of the directory's tokenizer_config.json wraps the message in header tokens.
            Assert.True(response.Usage?.InputTokenCount > 8, $"{response.Usage?.InputTokenCount} prompt tokens");
        }
        finally
        {
            (embedded.Services.GetRequiredService<IChatClient>() as IDisposable)?.Dispose();
        }
    }
}
