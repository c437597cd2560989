using Fathom.Engine.Model;
using Fathom.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Fathom.Connector.Embedded.Tests;

/// <summary><see cref="EmbeddedEngineOptions.ChatTemplatePath"/>: the in-process engine's <c>--chat-template</c>.</summary>
public sealed class EmbeddedChatTemplateTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_template_file_replaces_the_models_template_and_a_missing_one_fails_the_load()
    {
        string path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        string template = Path.Combine(Path.GetTempPath(), $"fathom-embedded-template-{Guid.NewGuid():N}.jinja");
        await File.WriteAllTextAsync(template,
            "{{ 'Once upon a time there was a long preamble that this template writes before the story. ' * 3 }}"
            + "{% for m in messages %}{{ m['content'] }}{% endfor %}", Ct);
        try
        {
            long? plain = await PromptTokensAsync(path, null);
            long? templated = await PromptTokensAsync(path, template);

            Assert.True(templated > plain + 30, $"the file's preamble is in the prompt ({plain} vs {templated} prompt tokens)");

            string missing = template + ".missing";
            var services = new ServiceCollection().AddFathomEmbeddedChatCompletion(path, options: new() { Threads = 1, ChatTemplatePath = missing });
            using var provider = services.BuildServiceProvider();
            var error = Assert.Throws<ModelLoadException>(() => provider.GetRequiredService<IChatClient>());
            Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(template);
        }
    }

    private static async Task<long?> PromptTokensAsync(string model, string? template)
    {
        var services = new ServiceCollection().AddFathomEmbeddedChatCompletion(model, options: new() { Threads = 1, ChatTemplatePath = template });
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IChatClient>();
        var response = await client.GetResponseAsync("Tell me a story.", new ChatOptions { Temperature = 0, MaxOutputTokens = 1 }, Ct);
        return response.Usage?.InputTokenCount;
    }
}
