using System.Net;
using Fathom.EngineService.Tests.OpenAi;
using Fathom.Testing;

namespace Fathom.EngineService.Tests.Serving;

/// <summary>
/// <c>--max-num-batched-tokens</c> / <c>--step-time-target-ms</c> / <c>--step-time-decode-multiple</c> /
/// <c>--max-admission-wait-ms</c>, <c>--kv-cache-dtype</c> and
/// <c>--warm-up-tokens</c> on a real engine service: the step budget gauge, the fixed override, a load that fails on an
/// unknown dtype, and the warm-up logged before ready (or off, or refused).
/// </summary>
public sealed class StepBudgetAndKvDtypeOptionTests
{
    private const string Budget = "fathom_engine_step_token_budget";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_learned_budget_is_published_and_a_fixed_one_overrides_it()
    {
        _ = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        await using (var learned = await EngineServiceProcess.StartAsync(arguments: ["--step-time-target-ms", "200", "--kv-cache-dtype", "f32"]))
        {
            double budget = await BudgetAfterOneRequestAsync(learned);
            Assert.InRange(budget, 2, 8192); // at least the decode plus one prefill token, at most the learned budget's ceiling
        }

        await using var fixedBudget = await EngineServiceProcess.StartAsync(arguments: ["--max-num-batched-tokens", "24", "--kv-cache-dtype", "fp8"]);
        Assert.Equal(24, await BudgetAfterOneRequestAsync(fixedBudget));
        Assert.Contains("KV blocks (fp8, ", fixedBudget.Output, StringComparison.Ordinal); // an fp8 cache serves, and says so
    }

    [Fact]
    public async Task A_decode_step_multiple_below_one_fails_the_load_naming_the_setting_and_a_valid_one_serves_with_step_times_published()
    {
        _ = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        await using (var bad = await EngineServiceProcess.StartAsync(arguments: ["--step-time-decode-multiple", "0.5"], readyPath: "/alive"))
        {
            for (int i = 0; i < 400 && !bad.Output.Contains("could not be loaded", StringComparison.Ordinal); i++)
            {
                await Task.Delay(50, Ct);
            }

            Assert.True(bad.IsRunning);
            Assert.Contains("StepTimeDecodeMultiple", bad.Output, StringComparison.Ordinal);
        }

        await using var good = await EngineServiceProcess.StartAsync(arguments: ["--step-time-decode-multiple", "3", "--max-admission-wait-ms", "20"]);
        Assert.InRange(await BudgetAfterOneRequestAsync(good), 2, 8192);
        double steps = 0;
        for (int i = 0; i < 100 && steps == 0; i++)
        {
            steps = await PrometheusText.ScrapeAsync(good.BaseAddress, "fathom_engine_step_duration_seconds_count", cancellationToken: Ct) ?? 0;
            await Task.Delay(steps == 0 ? 100 : 0, Ct);
        }

        Assert.True(steps > 0, "fathom_engine_step_duration_seconds was not published");
    }

    [Fact]
    public async Task A_negative_admission_wait_fails_the_load_naming_the_setting()
    {
        _ = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        await using var bad = await EngineServiceProcess.StartAsync(arguments: ["--max-admission-wait-ms", "-1"], readyPath: "/alive");
        for (int i = 0; i < 400 && !bad.Output.Contains("could not be loaded", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50, Ct);
        }

        Assert.True(bad.IsRunning);
        Assert.Contains("MaxAdmissionWait", bad.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_kv_cache_dtype_fails_the_load_naming_the_setting()
    {
        _ = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        await using var service = await EngineServiceProcess.StartAsync(arguments: ["--kv-cache-dtype", "f17"], readyPath: "/alive");
        using var http = new HttpClient { BaseAddress = service.BaseAddress };
        for (int i = 0; i < 400 && !service.Output.Contains("could not be loaded", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50, Ct);
        }

        Assert.True(service.IsRunning);
        Assert.Contains("Fathom:KvCacheDtype 'f17' is not one of auto, f16, f32", service.Output, StringComparison.Ordinal);
        using var ready = await http.GetAsync("/health/ready", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
    }

    [Fact]
    public async Task The_warm_up_is_logged_before_ready_and_a_negative_one_fails_the_load_naming_the_setting()
    {
        _ = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        await using (var warmed = await EngineServiceProcess.StartAsync(arguments: ["--warm-up-tokens", "24"]))
        {
            // Written before the replica turned ready; the pipe may deliver it a moment after the probe's answer.
            for (int i = 0; i < 100 && !warmed.Output.Contains("Warmed up", StringComparison.Ordinal); i++)
            {
                await Task.Delay(50, Ct);
            }

            Assert.Contains("Warmed up with a 24-token prefill and 2 decode steps", warmed.Output, StringComparison.Ordinal);
        }

        await using (var off = await EngineServiceProcess.StartAsync(arguments: ["--warm-up-tokens", "0"]))
        {
            // "Serving ..." is logged after the point where the warm-up would have run.
            for (int i = 0; i < 100 && !off.Output.Contains("Serving ", StringComparison.Ordinal); i++)
            {
                await Task.Delay(50, Ct);
            }

            Assert.Contains("Serving ", off.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("Warmed up", off.Output, StringComparison.Ordinal);
        }

        await using var bad = await EngineServiceProcess.StartAsync(arguments: ["--warm-up-tokens", "-1"], readyPath: "/alive");
        for (int i = 0; i < 400 && !bad.Output.Contains("could not be loaded", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50, Ct);
        }

        Assert.True(bad.IsRunning);
        Assert.Contains("Fathom:WarmUpTokens (--warm-up-tokens) must be 0 (no warm-up) or more, not -1", bad.Output, StringComparison.Ordinal);
    }

    private static async Task<double> BudgetAfterOneRequestAsync(ServiceProcess service)
    {
        using var http = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        using var response = await http.PostAsync(
            "/v1/completions", CompletionsTests.JsonContent(new { prompt = "Once upon a time", max_tokens = 8, temperature = 0 }), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The exporter may answer from its short cache: poll.
        for (int i = 0; i < 100; i++)
        {
            if (await PrometheusText.ScrapeAsync(service.BaseAddress, Budget, cancellationToken: Ct) is { } value and > 0)
            {
                return value;
            }

            await Task.Delay(100, Ct);
        }

        Assert.Fail($"{Budget} was not published");
        return 0;
    }
}
