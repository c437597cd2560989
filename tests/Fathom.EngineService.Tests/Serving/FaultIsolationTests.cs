using System.Net;
using System.Text;
using System.Text.Json;
using Fathom.Engine.Scheduling;
using Fathom.EngineService.Tests.OpenAi;
using Fathom.Testing;

namespace Fathom.EngineService.Tests.Serving;

/// <summary>
/// Over HTTP, on the real model: a request the engine fails answers OpenAI error JSON or ends its stream with an
/// error event, and the requests beside it are untouched. The engine runs in process so that faults can be injected.
/// </summary>
public sealed class FaultIsolationTests
{
    // Requests with these seeds are the ones the injected faults hit.
    private const long SamplingFaultSeed = 777;
    private const long StepFaultSeed = 778;

    [Fact]
    public async Task A_sampling_fault_fails_its_request_with_400_or_an_error_event_and_the_other_stream_is_unchanged()
    {
        await using var service = await InProcessEngine.StartAsync(options => options with
        {
            FaultInjector = (sequence, point) =>
            {
                if (point == FaultPoint.Sample && sequence.Request.Sampling.Seed == SamplingFaultSeed && sequence.NumOutputTokens >= 2)
                {
                    throw new ArithmeticException("injected sampling fault");
                }
            },
        });
        var http = service.Http;
        string solo = await StreamTextAsync(http, seed: 1);

        var good = StreamTextAsync(http, seed: 1);
        var badStream = PostAsync(http, stream: true, seed: SamplingFaultSeed);
        var badJson = PostAsync(http, stream: false, seed: SamplingFaultSeed);

        using (var response = await badJson)
        {
            var error = await ErrorTests.ErrorOf(response, HttpStatusCode.BadRequest);
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        }

        using (var response = await badStream)
        {
            string sse = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var last = LastEvent(sse);
            Assert.Equal("invalid_request_error", last.GetProperty("error").GetProperty("type").GetString());
            Assert.DoesNotContain("[DONE]", sse, StringComparison.Ordinal);
        }

        Assert.Equal(solo, await good);
    }

    [Fact]
    public async Task A_step_that_fails_twice_answers_500_and_the_replica_is_not_ready_until_a_step_succeeds()
    {
        await using var service = await InProcessEngine.StartAsync(options => options with
        {
            WrapRunner = runner => new FailingRunner(runner),
        });
        var http = service.Http;

        using (var response = await PostAsync(http, stream: false, seed: StepFaultSeed))
        {
            var error = await ErrorTests.ErrorOf(response, HttpStatusCode.InternalServerError);
            Assert.Equal("server_error", error.GetProperty("type").GetString());
        }

        using (var ready = await http.GetAsync("/health/ready", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        // The idle engine probes the model; its step succeeds and the replica is ready again.
        for (int i = 0; i < 100; i++)
        {
            using var ready = await http.GetAsync("/health/ready", TestContext.Current.CancellationToken);
            if (ready.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        Assert.Fail("the replica did not become ready again");
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, bool stream, long seed)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = CompletionsTests.JsonContent(new { prompt = "Once upon a time", max_tokens = 16, temperature = 0, seed, stream }),
        };
        return http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
    }

    private static async Task<string> StreamTextAsync(HttpClient http, long seed)
    {
        using var response = await PostAsync(http, stream: true, seed);
        string sse = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("data: [DONE]", sse, StringComparison.Ordinal);
        var text = new StringBuilder();
        foreach (var data in Events(sse).Where(d => d != "[DONE]"))
        {
            foreach (var choice in JsonDocument.Parse(data).RootElement.GetProperty("choices").EnumerateArray())
            {
                text.Append(choice.GetProperty("text").GetString());
            }
        }

        return text.ToString();
    }

    private static IEnumerable<string> Events(string sse) =>
        sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.Trim()).Where(e => e.StartsWith("data: ", StringComparison.Ordinal)).Select(e => e[6..]);

    private static JsonElement LastEvent(string sse) => JsonDocument.Parse(Events(sse).Last()).RootElement.Clone();

    /// <summary>Fails every forward step that holds a sequence of a request seeded <see cref="StepFaultSeed"/>.</summary>
    private sealed class FailingRunner(IModelRunner inner) : IModelRunner
    {
        public int VocabSize => inner.VocabSize;

        public void Execute(SchedulerOutput batch, Span<float> logits)
        {
            if (batch.Sequences.Any(s => s.Sequence.Request.Sampling.Seed == StepFaultSeed))
            {
                throw new InvalidOperationException("injected step failure");
            }

            inner.Execute(batch, logits);
        }
    }
}
