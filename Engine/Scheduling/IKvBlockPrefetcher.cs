namespace Fathom.Engine.Scheduling;

/// <summary>
/// A second KV tier that can fetch a prompt's blocks into local memory before the request is queued, so that
/// <see cref="KvCache.IKvBlockTier.CountAvailable"/> can offer them on admission without waiting on the network.
/// <see cref="EngineHost"/> awaits it in <see cref="EngineHost.SubmitAsync"/> when a tier implements it.
/// </summary>
public interface IKvBlockPrefetcher
{
    /// <summary>Fetches what the tier holds of <paramref name="promptTokenIds"/>' leading blocks; must not throw for a miss.</summary>
    ValueTask PrefetchAsync(IReadOnlyList<int> promptTokenIds, CancellationToken cancellationToken);
}
