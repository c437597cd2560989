using System.Diagnostics;
using System.Diagnostics.Metrics;
using Fathom.KvCache.Redis.Tests.Servers;

namespace Fathom.KvCache.Redis.Tests.Store;

public class KvCacheMetricsTests
{
    [Fact]
    public async Task Fetches_and_writes_report_on_the_fathom_kvcache_meter_and_activity_source()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await GarnetTestServer.StartAsync();
        await using var store = await RedisKvBlockStore.ConnectAsync(server.ConnectionString, new KvCacheOptions { FetchTimeout = TimeSpan.FromSeconds(3) });
        var totals = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Fathom.KvCache" && ReferenceEquals(instrument.Meter.Scope, store))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Add(Instrument i, double v)
        {
            lock (totals)
            {
                totals[i.Name] = totals.GetValueOrDefault(i.Name) + v;
            }
        }

        listener.SetMeasurementEventCallback<long>((i, v, _, _) => Add(i, v));
        listener.SetMeasurementEventCallback<double>((i, v, _, _) => Add(i, 1));
        listener.SetMeasurementEventCallback<int>((i, v, _, _) => totals[i.Name] = v);
        listener.Start();
        var spans = new List<string>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Fathom.KvCache",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = a => { lock (spans) { spans.Add(a.OperationName); } },
        };
        ActivitySource.AddActivityListener(activities);

        var fp = TestBlocks.Fingerprint();
        store.TryEnqueue(fp, TestBlocks.Block(0));
        await store.FlushAsync(ct);
        await store.FetchLongestRunAsync(fp, TestBlocks.Shape, TestBlocks.Hashes(0, 1), ct);
        listener.RecordObservableInstruments();

        // The names of docs/metrics.md, which the Grafana dashboard and the scaling rules query.
        Assert.Equal(2, totals["fathom.kvcache.remote.lookups"]); // blocks asked
        Assert.Equal(1, totals["fathom.kvcache.remote.hits"]);
        Assert.Equal(TestBlocks.Tokens, totals["fathom.kvcache.remote.hit_tokens"]);
        Assert.True(totals["fathom.kvcache.remote.read"] >= TestBlocks.BlockBytes);
        Assert.True(totals["fathom.kvcache.remote.written"] >= TestBlocks.BlockBytes);
        Assert.Equal(1, totals["fathom.kvcache.remote.fetch.duration"]);
        Assert.Equal((int)KvCircuitState.Closed, totals["fathom.kvcache.remote.circuit_state"]);
        Assert.Equal(0, totals["fathom.kvcache.remote.circuit_open"]);
        lock (spans)
        {
            Assert.Contains("kvcache.fetch", spans);
            Assert.Contains("kvcache.write", spans);
        }
    }
}
