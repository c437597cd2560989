using System.Net;
using Fathom.EngineService.Tests.OpenAi;
using Fathom.Testing;

namespace Fathom.EngineService.Tests.Serving;

/// <summary>/health/ready waits for the model; requests before it get a 503 with Retry-After.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task Without_a_loaded_model_the_service_is_alive_but_not_ready_and_answers_503()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"fathom-missing-{Guid.NewGuid():N}.gguf");
        await using var service = await EngineServiceProcess.StartAsync(missing, readyPath: "/alive");
        using var http = new HttpClient { BaseAddress = service.BaseAddress };

        using var ready = await http.GetAsync("/health/ready", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        using var content = CompletionsTests.JsonContent(new { prompt = "hi" });
        using var response = await http.PostAsync("/v1/completions", content, TestContext.Current.CancellationToken);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        await ErrorTests.ErrorOf(response, HttpStatusCode.ServiceUnavailable);
    }
}
