using System.Text;
using Fathom.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using SkKernel = Microsoft.SemanticKernel.Kernel;

namespace Fathom.Connector.Embedded.Tests;

/// <summary>Embedded mode (the engine in this process) answers exactly as the engine service does through the HTTP connector.</summary>
public sealed class EmbeddedModeTests(EngineServiceFixture engine) : IClassFixture<EngineServiceFixture>
{
    private const string Prompt = "Once upon a time";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static FathomPromptExecutionSettings Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens };

    [Fact]
    public async Task Embedded_mode_answers_exactly_as_the_server_at_temperature_0()
    {
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        var server = SkKernel.CreateBuilder().AddFathomChatCompletion(SharedFixtures.Stories260KName, engine.BaseAddress).Build();
        var embedded = SkKernel.CreateBuilder().AddFathomEmbeddedChatCompletion(path, options: new() { Threads = 1 }).Build();
        try
        {
            var expected = (await server.InvokePromptAsync(Prompt, new KernelArguments(Greedy(40)), cancellationToken: Ct)).GetValue<string>();
            var actual = (await embedded.InvokePromptAsync(Prompt, new KernelArguments(Greedy(40)), cancellationToken: Ct)).GetValue<string>();
            Assert.Equal(expected, actual);

            var streamed = new StringBuilder();
            await foreach (var piece in embedded.InvokePromptStreamingAsync<string>(Prompt, new KernelArguments(Greedy(40)), cancellationToken: Ct))
            {
                streamed.Append(piece);
            }

            Assert.Equal(expected, streamed.ToString());
            var client = embedded.Services.GetRequiredService<IChatClient>();
            var response = await client.GetResponseAsync(Prompt, new ChatOptions { Temperature = 0, MaxOutputTokens = 3 }, Ct);
            Assert.Equal(3, response.Usage?.OutputTokenCount);
            Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        }
        finally
        {
            (embedded.Services.GetRequiredService<IChatClient>() as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public void Embedded_mode_with_a_missing_file_fails_at_registration()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"fathom-missing-{Guid.NewGuid():N}.gguf");
        var e = Assert.Throws<FileNotFoundException>(() => SkKernel.CreateBuilder().AddFathomEmbeddedChatCompletion(missing));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);

        var services = new ServiceCollection();
        Assert.Throws<FileNotFoundException>(() => services.AddFathomEmbeddedChatCompletion(missing));
    }
}
