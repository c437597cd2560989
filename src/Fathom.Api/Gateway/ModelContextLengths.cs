using System.Collections.Concurrent;
using Fathom.Api.OpenAi;
using Fathom.OpenAi.Protocol;
using Yarp.ReverseProxy;

namespace Fathom.Api.Gateway;

/// <summary>
/// Each served model's context length (<c>max_model_len</c> of the replicas' <c>/v1/models</c>), for the token
/// charge of a request without <c>max_tokens</c>, which may generate to the end of the context. Learned from every
/// model list the API reads, and asked of the ready replicas when a request names a model not seen yet (at most
/// once per <see cref="RefreshEvery"/>, so a made-up model name costs no fan-out per request).
/// </summary>
internal sealed class ModelContextLengths(IProxyStateLookup proxy, IServiceProvider services) : IDisposable
{
    private static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, int> _byModel = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private long _lastRefresh = long.MinValue;

    /// <summary>Records the context lengths in <paramref name="models"/>.</summary>
    public void Observe(IEnumerable<ModelCard> models)
    {
        foreach (var model in models)
        {
            if (model.MaxModelLength is > 0 and int length)
            {
                _byModel[model.Id] = length;
            }
        }
    }

    /// <summary>
    /// The context length of <paramref name="model"/> (absent: the longest served, since the replica chooses), or
    /// null when no ready replica reports it.
    /// </summary>
    public async ValueTask<int?> OfAsync(string? model, CancellationToken cancellationToken)
    {
        if (Known(model) is { } known)
        {
            return known;
        }

        await RefreshAsync(cancellationToken);
        return Known(model);
    }

    private int? Known(string? model) => string.IsNullOrEmpty(model)
        ? _byModel.IsEmpty ? null : _byModel.Values.Max()
        : _byModel.TryGetValue(model, out int length) ? length : null;

    public void Dispose() => _refreshing.Dispose();

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            long now = Environment.TickCount64;
            if (_lastRefresh != long.MinValue && now - _lastRefresh < (long)RefreshEvery.TotalMilliseconds)
            {
                return;
            }

            _lastRefresh = now;
            if (!proxy.TryGetCluster(EngineCluster.ClusterId, out var cluster))
            {
                return;
            }

            var client = services.GetRequiredService<ReplicaModelsClient>();
            var replicas = cluster.DestinationsState.AvailableDestinations.Select(d => new Uri(d.Model.Config.Address));
            foreach (var answer in await Task.WhenAll(replicas.Select(r => client.ModelsOfAsync(r, cancellationToken))))
            {
                Observe(answer);
            }
        }
        finally
        {
            _refreshing.Release();
        }
    }
}
