namespace Fathom.AppHost;

/// <summary>The <c>kvcache</c> as consumers see it: what to reference, and what to wait for (if anything runs).</summary>
internal sealed record KvCacheReference(
    KvCacheMode Mode,
    IResourceBuilder<IResourceWithConnectionString> ConnectionString,
    IResourceBuilder<IResource>? Server);
