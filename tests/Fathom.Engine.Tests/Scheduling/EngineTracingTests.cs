using System.Diagnostics;
using Fathom.Engine.Diagnostics;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;

namespace Fathom.Engine.Tests.Scheduling;

/// <summary>Each request is one span under the caller's span, with admission and first-token events and usage.</summary>
public sealed class EngineTracingTests
{
    [Fact]
    public async Task A_request_is_a_child_span_with_events_and_usage()
    {
        var finished = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is EngineTracing.SourceName or "test",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (finished)
                {
                    finished.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var source = new ActivitySource("test");
        using var setup = new EngineHostTests.Setup();
        int[] prompt = EngineHarness.Prompt(2, 6);

        Activity? engineSpanSeenByCaller;
        string parentSpanId;
        using (var parent = source.StartActivity("http request"))
        {
            Assert.NotNull(parent);
            parentSpanId = parent.SpanId.ToHexString();
            var outputs = await setup.Host.SubmitAsync(new EngineRequest("traced", prompt, new SamplingParams { Temperature = 0, MaxTokens = 5 }),
                TestContext.Current.CancellationToken);
            engineSpanSeenByCaller = Activity.Current;
            await foreach (var _ in outputs.Outputs.ReadAllAsync(TestContext.Current.CancellationToken))
            {
            }
        }

        Assert.Equal(parentSpanId, engineSpanSeenByCaller?.SpanId.ToHexString()); // the caller's context is left alone
        Activity span;
        lock (finished)
        {
            // Tests running beside this one make engine spans too: only this request's span is under its caller's.
            span = Assert.Single(finished, a => a.Source.Name == EngineTracing.SourceName && a.ParentSpanId.ToHexString() == parentSpanId);
        }

        Assert.Equal(parentSpanId, span.ParentSpanId.ToHexString());
        Assert.Equal(["scheduled", "first_token"], span.Events.Select(e => e.Name));
        Assert.Equal(6, span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(5, span.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal(5, span.GetTagItem("gen_ai.request.max_tokens"));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }
}
