using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Fathom.AppHost;
using Fathom.Testing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenAI;
using OpenAI.Chat;

namespace Fathom.AppHost.Tests;

public sealed class AppHostRunTests
{
    [Fact]
    public async Task Redis_server_two_engine_replicas_and_the_api_start_healthy_and_the_api_gets_both_replicas()
    {
        var ct = TestContext.Current.CancellationToken;
        RedisServer.RequireExecutable();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Fathom_AppHost>(
            ["--Fathom:KvCache:Mode=redis-server", "--Fathom:Engine:Replicas=2"], ct);
        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(4));
        await app.ResourceNotifications.WaitForResourceHealthyAsync("kvcache", timeout.Token);
        var engine0 = await app.ResourceNotifications.WaitForResourceHealthyAsync("engine-0", timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("engine-1", timeout.Token);
        var api = await app.ResourceNotifications.WaitForResourceHealthyAsync("api", timeout.Token);

        // The cache answers at the connection string every service receives.
        var kvcache = await app.GetConnectionStringAsync("kvcache", ct);
        Assert.NotNull(kvcache);
        var ping = await new RespPingHealthCheck(_ => ValueTask.FromResult<string?>(kvcache)).CheckHealthAsync(new HealthCheckContext(), ct);
        Assert.Equal(HealthStatus.Healthy, ping.Status);

        // Two processes, two ports, each answering for itself.
        var engineUris = new[] { app.GetEndpoint("engine-0", "http"), app.GetEndpoint("engine-1", "http") };
        Assert.NotEqual(engineUris[0].Port, engineUris[1].Port);
        foreach (var name in new[] { "engine-0", "engine-1" })
        {
            using var http = app.CreateHttpClient(name, "http");
            using var health = await http.GetAsync("/health", ct);
            Assert.True(health.IsSuccessStatusCode, $"{name} /health: {health.StatusCode}");
            using var ready = await http.GetAsync("/health/ready", ct);
            Assert.True(ready.IsSuccessStatusCode, $"{name} /health/ready: {ready.StatusCode}");
        }

        // The API's configuration contract: services__engine__http__{i}, one per replica, and the cache.
        var env = api.Snapshot.EnvironmentVariables.Where(e => e.IsFromSpec).ToDictionary(e => e.Name, e => e.Value);
        Assert.Equal(engineUris[0], new Uri(env["services__engine__http__0"]!));
        Assert.Equal(engineUris[1], new Uri(env["services__engine__http__1"]!));
        Assert.False(env.ContainsKey("services__engine__http__2"));
        // Rate-limit counters live in their own non-evicting redis-server, not in the cache (docs/security.md).
        Assert.Equal(await app.GetConnectionStringAsync("limits", ct), env["ConnectionStrings__limits"]);
        Assert.NotEqual(kvcache, env["ConnectionStrings__limits"]);
        Assert.False(env.ContainsKey("ConnectionStrings__kvcache"));
        var engineEnv = engine0.Snapshot.EnvironmentVariables.Where(e => e.IsFromSpec).ToDictionary(e => e.Name, e => e.Value);
        Assert.Equal(kvcache, engineEnv["ConnectionStrings__kvcache"]);
        Assert.True(engineEnv["Fathom__KvCache__HmacKey"]!.Length >= 32, "the engines get the generated HMAC key");

        // The key the AppHost generated: the API holds only its hash; without it /v1 is closed.
        var apiKey = await builder.Resources.OfType<ParameterResource>().Single(p => p.Name == "api-key").GetValueAsync(ct);
        Assert.False(string.IsNullOrEmpty(apiKey));
        Assert.Equal(ApiKeyExtensions.Sha256Hex(apiKey), env["Fathom__Api__KeyHashes__0"]);
        Assert.DoesNotContain(env, e => e.Value == apiKey);
        using var apiHttp = app.CreateHttpClient("api", "http");
        using (var anonymous = await apiHttp.GetAsync("/v1/models", ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        apiHttp.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);

        // /metrics and /health on the management endpoint only; the engines refuse anyone without the gateway token.
        using var management = app.CreateHttpClient("api", ManagementEndpointExtensions.EndpointName);
        Assert.True((await management.GetAsync("/health", ct)).IsSuccessStatusCode);
        Assert.Contains("# TYPE", await management.GetStringAsync("/metrics", ct));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await apiHttp.GetAsync("/metrics", ct)).StatusCode);
        using (var engineHttp = app.CreateHttpClient("engine-0", "http"))
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await engineHttp.GetAsync("/v1/models", ct)).StatusCode);
        }

        // The engines serve stories260K under the id the README's Semantic Kernel snippet sends.
        const string servedModel = "deepseek-r1-distill-llama-70b";
        using var models = System.Text.Json.JsonDocument.Parse(await apiHttp.GetStringAsync("/v1/models", ct));
        Assert.Equal([servedModel], models.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));

        // Chat through the API with the official OpenAI client, whole and streamed; the same prefix again is
        // routed to the replica that holds it and reports cached tokens.
        var chat = new ChatClient(servedModel, new System.ClientModel.ApiKeyCredential(apiKey),
            new OpenAIClientOptions { Endpoint = new Uri(app.GetEndpoint("api", "http"), "v1") });
        ChatMessage[] messages =
        [
            new SystemChatMessage("You are a storyteller who tells short, gentle stories about animals in the forest."),
            new UserChatMessage("Once upon a time there was a little fox who lived near a big river."),
        ];
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 };
        ChatCompletion first = await chat.CompleteChatAsync(messages, options, ct);
        Assert.False(string.IsNullOrWhiteSpace(first.Content[0].Text));
        var streamed = new System.Text.StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, options, ct))
        {
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        Assert.Equal(first.Content[0].Text, streamed.ToString());
        ChatCompletion again = await chat.CompleteChatAsync(messages, options, ct);
        Assert.Equal(first.Content[0].Text, again.Content[0].Text);
        Assert.True(again.Usage.InputTokenDetails?.CachedTokenCount >= 16,
            $"the repeated prefix should be served from the prefix cache; cached {again.Usage.InputTokenDetails?.CachedTokenCount} of {again.Usage.InputTokenCount}");

        // The sample chat got the key from the AppHost: it asked the API for the model and answered, then exited 0.
        var chatSample = await app.ResourceNotifications.WaitForResourceAsync("chat", e => KnownResourceStates.TerminalStates.Contains(e.Snapshot.State?.Text), timeout.Token);
        Assert.Equal(0, chatSample.Snapshot.ExitCode);
    }

    [Fact]
    public async Task Engines_receive_the_model_backend_and_cache_settings()
    {
        var ct = TestContext.Current.CancellationToken;
        RedisServer.RequireExecutable();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Fathom_AppHost>(
            ["--Fathom:KvCache:Mode=redis-server", "--Fathom:Engine:Replicas=3", "--Parameters:model=/models/x.gguf", "--Parameters:backend=cpu", "--Parameters:served-model-name=x"], ct);

        // The app model only: nothing is started.
        var model = builder.Resources.OfType<ProjectResource>().ToDictionary(r => r.Name);
        Assert.Equal(["api", "chat", "engine-0", "engine-1", "engine-2"], model.Keys.Order(StringComparer.Ordinal));
        Assert.IsType<RedisServerResource>(builder.Resources.Single(r => r.Name == "kvcache"));

        var parameters = builder.Resources.OfType<ParameterResource>().ToDictionary(p => p.Name);
        Assert.Equal("/models/x.gguf", await parameters["model"].GetValueAsync(ct));
        Assert.Equal("cpu", await parameters["backend"].GetValueAsync(ct));
        Assert.Equal("x", await parameters["served-model-name"].GetValueAsync(ct));
    }
}
