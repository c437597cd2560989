using System.ClientModel;
using System.Collections.Concurrent;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Fathom.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenAI;
using OpenAI.Chat;

namespace Fathom.AppHost.Tests;

/// <summary>
/// <c>Parameters:model</c> set to a Hugging Face model directory: the engine serves it (its own tokenizer and chat
/// template) under the served model name, and a chat through the API gateway is answered from it.
/// </summary>
public sealed class ModelDirectoryRunTests
{
    [Fact]
    public async Task The_model_parameter_accepts_a_directory_and_the_api_answers_from_it()
    {
        var ct = TestContext.Current.CancellationToken;
        string root = Directory.CreateTempSubdirectory("fathom-apphost-dir-").FullName;
        try
        {
            var dir = Path.Combine(root, "llama3-tiny");
            SyntheticLlama3Directory.Write(dir, maxShardBytes: 8 << 20);
            var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Fathom_AppHost>(
                ["--Fathom:KvCache:Mode=none", "--Fathom:Engine:Replicas=1", $"--Parameters:model={dir}", "--Parameters:served-model-name=tiny-dir"], ct);
            var apiKey = await builder.Resources.OfType<ParameterResource>().Single(p => p.Name == "api-key").GetValueAsync(ct) ?? "";
            var logs = new ConcurrentQueue<string>();
            builder.Services.AddLogging(l => l.AddProvider(new LineCollector("Fathom.AppHost.Resources.engine", logs)));
            await using var app = await builder.BuildAsync(ct);
            await app.StartAsync(ct);

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromMinutes(4));
            await app.ResourceNotifications.WaitForResourceHealthyAsync("engine-0", timeout.Token);
            await app.ResourceNotifications.WaitForResourceHealthyAsync("api", timeout.Token);

            using var api = app.CreateHttpClient("api", "http");
            var chat = new ChatClient("tiny-dir", new ApiKeyCredential(apiKey), new OpenAIClientOptions { Endpoint = new Uri(api.BaseAddress!, "v1") });
            var answer = await chat.CompleteChatAsync([new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 4, Temperature = 0 }, ct);
            Assert.NotNull(answer.Value.Usage);
            Assert.True(answer.Value.Usage.OutputTokenCount > 0);
            // The Llama 3.1 template from the directory's tokenizer_config.json wraps the message in its header tokens.
            Assert.True(answer.Value.Usage.InputTokenCount > 8, $"{answer.Value.Usage.InputTokenCount} prompt tokens");

            string all = string.Join('\n', logs);
            Assert.Contains($"Serving tiny-dir from {dir}", all, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private sealed class LineCollector(string categoryPrefix, ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Collector(categoryName.StartsWith(categoryPrefix, StringComparison.Ordinal) ? lines : null);

        public void Dispose()
        {
        }

        private sealed class Collector(ConcurrentQueue<string>? lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => lines is not null;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines?.Enqueue(formatter(state, exception));
        }
    }
}
