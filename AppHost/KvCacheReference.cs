namespace Fathom.AppHost;

/// <summary>
/// The <c>kvcache</c> as consumers see it: what to reference, what to wait for (if anything runs), the engines'
/// shared HMAC key, and — where the AppHost runs the cache server itself — the separate store for the API's rate-limit
/// counters, which must not share an instance that evicts under cache pressure (docs/security.md).
/// </summary>
internal sealed record KvCacheReference(
    KvCacheMode Mode,
    IResourceBuilder<IResourceWithConnectionString> ConnectionString,
    IResourceBuilder<IResource>? Server)
{
    /// <summary>The secret the engines sign and verify K/V blocks with (<c>Fathom:KvCache:HmacKey</c>).</summary>
    public IResourceBuilder<ParameterResource>? HmacKey { get; init; }

    /// <summary>The non-evicting store for the API's shared limits; null: the limits use <see cref="ConnectionString"/>.</summary>
    public IResourceBuilder<IResourceWithConnectionString>? Limits { get; init; }

    /// <summary>What to wait for before the API starts using <see cref="Limits"/>.</summary>
    public IResourceBuilder<IResource>? LimitsServer { get; init; }
}
