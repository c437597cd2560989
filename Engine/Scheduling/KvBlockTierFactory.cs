using Fathom.Engine.KvCache;

namespace Fathom.Engine.Scheduling;

/// <summary>
/// Builds a second KV tier for a loaded model (its fingerprint and block shape are known only then). A host
/// registers one to put e.g. a Redis tier behind the local prefix cache; if the tier is also an
/// <see cref="IKvBlockPrefetcher"/>, requests are prefetched before they are queued.
/// </summary>
/// <param name="model">The model being served.</param>
public delegate IKvBlockTier KvBlockTierFactory(ServedModel model);
