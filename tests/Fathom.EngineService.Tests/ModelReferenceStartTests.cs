using System.ClientModel;
using System.Net;
using Fathom.Testing;
using OpenAI;
using OpenAI.Chat;

namespace Fathom.EngineService.Tests;

/// <summary>
/// The engine service started on a model reference (<c>--model hf.co/ORG/REPO:QUANT</c>) pulls it from the hub in
/// <c>HF_ENDPOINT</c> into the store, logs the pull's progress, stays not ready (503, no error logged) meanwhile,
/// and then answers.
/// </summary>
public sealed class ModelReferenceStartTests
{
    private const string Repo = "acme/Stories260K-GGUF";

    [Fact]
    public async Task An_engine_started_on_a_reference_pulls_it_logs_progress_and_then_answers()
    {
        var ct = TestContext.Current.CancellationToken;
        byte[] model = await File.ReadAllBytesAsync(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), ct);
        await using var hub = await FakeHub.StartAsync();
        hub.AddFile(Repo, "stories260K-F32.gguf", model);
        hub.BytesPerSecond = 256 * 1024;   // about 4 s: long enough to see the pull from outside
        string store = Directory.CreateTempSubdirectory("fathom-engine-store-").FullName;
        try
        {
            var environment = new Dictionary<string, string?>
            {
                ["HF_ENDPOINT"] = hub.Endpoint.ToString(),
                ["FATHOM_MODELS"] = store,
                ["HF_HOME"] = Path.Combine(store, ".hf-home"),
                ["HF_TOKEN"] = null,
                ["HUGGING_FACE_HUB_TOKEN"] = null,
            };
            await using var engine = await EngineServiceProcess.StartAsync(
                model: $"hf.co/{Repo}:F32", environment: environment, readyPath: "/alive");

            using var http = new HttpClient { BaseAddress = engine.BaseAddress };
            using (var pulling = await http.GetAsync("/health/ready", ct))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, pulling.StatusCode);
                Assert.Equal("Degraded", await pulling.Content.ReadAsStringAsync(ct));
            }

            await engine.WaitUntilReadyAsync("/health/ready", TimeSpan.FromSeconds(90));

            Assert.Contains($"Pulling hf.co/{Repo}:F32: stories260K-F32.gguf (1/1)", engine.Output);
            Assert.Contains("complete", engine.Output);
            Assert.Contains("Serving stories260K-F32 from " + Path.Combine(store, "hf.co", "acme", "stories260k-gguf", "gguf", "F32", "stories260K-F32.gguf"), engine.Output);
            Assert.DoesNotContain("fail:", engine.Output);
            Assert.DoesNotContain("crit:", engine.Output);

            var chat = new ChatClient("stories260K-F32", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(engine.BaseAddress, "v1") });
            var answer = await chat.CompleteChatAsync(
                [new UserChatMessage("Once upon a time")], new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0 }, ct);
            Assert.False(string.IsNullOrWhiteSpace(answer.Value.Content[0].Text));
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }
    }

    [Fact]
    public async Task An_engine_started_on_a_reference_the_hub_does_not_have_reports_why_and_stays_not_ready()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var hub = await FakeHub.StartAsync();
        string store = Directory.CreateTempSubdirectory("fathom-engine-store-").FullName;
        try
        {
            var environment = new Dictionary<string, string?> { ["HF_ENDPOINT"] = hub.Endpoint.ToString(), ["FATHOM_MODELS"] = store, ["HF_TOKEN"] = null };
            await using var engine = await EngineServiceProcess.StartAsync(model: "hf.co/acme/absent:Q4_K_M", environment: environment, readyPath: "/alive");

            using var http = new HttpClient { BaseAddress = engine.BaseAddress };
            string body = "";
            for (var i = 0; i < 100 && !body.Contains("failed to load"); i++)
            {
                using var response = await http.GetAsync("/health", ct);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                body = engine.Output;
                await Task.Delay(100, ct);
            }

            Assert.Contains("acme/absent was not found", engine.Output);
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }
    }
}
