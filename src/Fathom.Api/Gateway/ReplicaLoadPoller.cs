using System.Globalization;
using Fathom.Api.Security;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;

namespace Fathom.Api.Gateway;

/// <summary>
/// Reads each replica's Prometheus <c>/metrics</c> every <see cref="ApiOptions.LoadPollInterval"/> for
/// <c>fathom_engine_requests_waiting</c> and <c>fathom_engine_kv_cache_usage_ratio</c> (the names the autoscaler
/// also uses), so the load-aware choice sees work the gateway did not send itself (other API instances).
/// </summary>
internal sealed class ReplicaLoadPoller(
    IProxyStateLookup proxy, ReplicaLoad load, GatewayToken token, IOptions<ApiOptions> options, ILogger<ReplicaLoadPoller> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var http = new HttpClient(new GatewayTokenHandler(token) { InnerHandler = new SocketsHttpHandler() }) { Timeout = TimeSpan.FromSeconds(2) };
        using var timer = new PeriodicTimer(options.Value.LoadPollInterval);
        do
        {
            if (!proxy.TryGetCluster(EngineCluster.ClusterId, out var cluster))
            {
                continue;
            }

            foreach (var destination in cluster.Destinations.Values)
            {
                string address = destination.Model.Config.Address;
                try
                {
                    string text = await http.GetStringAsync(new Uri(new Uri(address), "/metrics"), stoppingToken);
                    load.Report(address, Sum(text, "fathom_engine_requests_waiting"), Sum(text, "fathom_engine_kv_cache_usage_ratio"));
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
                {
                    logger.LogDebug("Load poll of {Replica} failed: {Message}", address, e.Message);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>A series' value summed over its label sets (0 when absent).</summary>
    internal static double Sum(string prometheusText, string series)
    {
        double sum = 0;
        foreach (string line in prometheusText.Split('\n'))
        {
            if (!line.StartsWith(series, StringComparison.Ordinal) || line.Length <= series.Length || line[series.Length] is not (' ' or '{'))
            {
                continue;
            }

            int close = line.LastIndexOf('}');
            string[] rest = line[(close >= 0 ? close + 1 : series.Length)..].Trim().Split(' ');
            if (double.TryParse(rest[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            {
                sum += v;
            }
        }

        return sum;
    }
}
