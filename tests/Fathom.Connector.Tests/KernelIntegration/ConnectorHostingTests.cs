using System.Text;
using System.Text.Json.Nodes;
using Fathom.Connector.Tests.Support;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.TextGeneration;
using SkKernel = Microsoft.SemanticKernel.Kernel;

namespace Fathom.Connector.Tests.KernelIntegration;

/// <summary>
/// How the registered connector lives in an application: HTTP client factory handlers, metadata, telemetry,
/// errors, cancellation, and what it does not depend on.
/// </summary>
public sealed class ConnectorHostingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Http_client_factory_handlers_apply_to_the_connector()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Text: "one"));
        server.Enqueue(new ScriptedReply(Text: "two"));
        var defaults = new CountingHandler();
        var named = new CountingHandler();
        var builder = SkKernel.CreateBuilder();
        builder.Services.ConfigureHttpClientDefaults(http => http.AddHttpMessageHandler(() => defaults));
        builder.AddFathomChatCompletion("m", server.BaseAddress, http => http.AddHttpMessageHandler(() => named));
        var kernel = builder.Build();

        await kernel.InvokePromptAsync("a", cancellationToken: Ct);
        await kernel.InvokePromptAsync("b", cancellationToken: Ct);

        Assert.Equal(2, defaults.Count);
        Assert.Equal(2, named.Count);
    }

    [Fact]
    public async Task The_registered_chat_client_reports_metadata_for_semantic_kernel()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        var kernel = SkKernel.CreateBuilder().AddFathomChatCompletion("m", server.BaseAddress).Build();

        var client = kernel.GetRequiredService<IChatClient>();
        var metadata = client.GetService<ChatClientMetadata>();

        Assert.NotNull(metadata);
        Assert.Equal("m", metadata.DefaultModelId);
        Assert.Equal(new Uri(server.BaseAddress, "v1/"), metadata.ProviderUri);
        Assert.Equal("m", kernel.GetRequiredService<IChatCompletionService>().Attributes["ModelId"]);
    }

    [Fact]
    public async Task Server_errors_surface_through_the_kernel_with_the_servers_message()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Status: System.Net.HttpStatusCode.BadRequest, ErrorMessage: "max_tokens exceeds the context"));
        var kernel = SkKernel.CreateBuilder().AddFathomChatCompletion("m", server.BaseAddress).Build();

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => kernel.InvokePromptAsync("x", cancellationToken: Ct));

        var api = ex as FathomApiException ?? ex.InnerException as FathomApiException;
        Assert.NotNull(api);
        Assert.Equal("max_tokens exceeds the context", api.Message);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, api.StatusCode);
    }

    [Fact]
    public async Task Each_request_is_a_genai_span_with_token_usage()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Text: "traced", CachedTokens: 8));
        var spans = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == FathomChatClient.TelemetrySourceName,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        var kernel = SkKernel.CreateBuilder().AddFathomChatCompletion("otel-model", server.BaseAddress).Build();

        await kernel.InvokePromptAsync("x", cancellationToken: Ct);

        var span = Assert.Single(spans, s => (string?)s.GetTagItem("gen_ai.request.model") == "otel-model");
        Assert.Equal(11, Convert.ToInt32(span.GetTagItem("gen_ai.usage.input_tokens"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(3, Convert.ToInt32(span.GetTagItem("gen_ai.usage.output_tokens"), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Cancelling_a_stream_closes_the_connection_so_the_server_can_stop_generating()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Text: "first words", HangAfterFirstChunk: true));
        var kernel = SkKernel.CreateBuilder().AddFathomChatCompletion("m", server.BaseAddress).Build();
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var received = new StringBuilder();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var chunk in kernel.InvokePromptStreamingAsync<string>("talk forever", cancellationToken: cancellation.Token))
            {
                received.Append(chunk);
                if (received.Length > 0)
                {
                    await cancellation.CancelAsync();
                }
            }
        });

        Assert.Equal("first words", received.ToString());
        await server.ClientDisconnected.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
    }

    [Fact]
    public async Task A_plain_chat_client_registration_works_with_semantic_kernel()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Text: "via IChatClient"));
        using var http = new HttpClient();
        var builder = SkKernel.CreateBuilder();
        builder.Services.AddChatClient(new FathomChatClient(http, "m", server.BaseAddress));
        var kernel = builder.Build();

        var result = await kernel.InvokePromptAsync("x", cancellationToken: Ct);

        Assert.Equal("via IChatClient", result.GetValue<string>());
    }

    [Fact]
    public async Task Semantic_kernels_openai_connector_is_not_needed()
    {
        await using var server = await ScriptedOpenAiServer.StartAsync(Ct);
        server.Enqueue(new ScriptedReply(Text: "ok"));
        var kernel = SkKernel.CreateBuilder().AddFathomChatCompletion("m", server.BaseAddress).Build();

        await kernel.InvokePromptAsync("x", cancellationToken: Ct);

        var referenced = typeof(FathomChatClient).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.DoesNotContain(referenced, n => n!.StartsWith("Microsoft.SemanticKernel.Connectors", StringComparison.Ordinal) || n == "OpenAI" || n!.StartsWith("Azure.", StringComparison.Ordinal));
        // (The test assembly itself loads SK's OpenAI connector for the compatibility test, so only the connector's
        // own references are checked, with its dependencies one level down.)
        var dependencies = referenced.Where(n => n!.StartsWith("Fathom.", StringComparison.Ordinal))
            .SelectMany(n => System.Reflection.Assembly.Load(n!).GetReferencedAssemblies().Select(a => a.Name));
        Assert.DoesNotContain(dependencies, n => n!.StartsWith("Microsoft.SemanticKernel.Connectors", StringComparison.Ordinal) || n == "OpenAI");
    }

    private sealed class CountingHandler : DelegatingHandler
    {
        private int _count;

        public int Count => _count;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
