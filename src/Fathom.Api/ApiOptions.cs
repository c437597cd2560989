using Fathom.Api.Gateway;

namespace Fathom.Api;

/// <summary>The <c>Fathom:Api</c> configuration section (<c>Fathom__Api__X</c> in the environment).</summary>
internal sealed class ApiOptions
{
    public const string Section = "Fathom:Api";

    /// <summary>
    /// SHA-256 hex hashes of the accepted API keys (64 hex digits, optionally written <c>sha256:HEX</c>); the keys
    /// themselves are never configured. Empty: the API refuses to start unless <see cref="AllowAnonymous"/> is set or
    /// the environment is Development (see <see cref="Security.ApiKeyPolicy"/>).
    /// </summary>
    public List<string> KeyHashes { get; set; } = [];

    /// <summary>Serve <c>/v1</c> without keys outside Development (a private network, a demo); off by default.</summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>
    /// The local port (one the server listens on, e.g. <c>ASPNETCORE_HTTP_PORTS=8080;8081</c>) that alone serves
    /// <c>/metrics</c> and <c>/health</c>, and serves nothing but them and the probes; 0: none, and then those two are
    /// served on every port in Development only (see <see cref="Security.ManagementPortMiddleware"/>).
    /// </summary>
    public int ManagementPort { get; set; }

    /// <summary>Requests per minute per key (or per client address when open); 0: unlimited.</summary>
    public int RequestsPerMinute { get; set; } = 600;

    /// <summary>
    /// Tokens per minute per key; 0: unlimited. A request is charged its prompt estimate plus <c>max_tokens × n</c>
    /// (without <c>max_tokens</c>: the rest of the model's context) up front, and settled to its actual usage when
    /// its response ends.
    /// </summary>
    public int TokensPerMinute { get; set; }

    /// <summary>Streaming responses open at once per key; 0: unlimited.</summary>
    public int ConcurrentStreams { get; set; } = 32;

    /// <summary>The window the per-minute limits count over (one minute; shorter in tests).</summary>
    public TimeSpan RateWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The connection string (<c>ConnectionStrings:NAME</c>) of the Redis that shares the per-key limits between API
    /// instances; by default the KV cache's, which the AppHost already references. Not set: limits are per instance.
    /// </summary>
    public string SharedLimitsConnectionName { get; set; } = "kvcache";

    /// <summary>How long a stream's shared slot outlives its instance's last renewal (renewed every third of it).</summary>
    public TimeSpan StreamLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest request body accepted (413 <c>request_too_large</c> above).</summary>
    public long MaxRequestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// How much of an oversized body is read and thrown away so that a client still sending receives the 413
    /// rather than a reset connection; a body beyond this gets the 413 and the connection is closed.
    /// </summary>
    public long MaxDiscardedBodyBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Characters of each leading message that go into the prefix hash.</summary>
    public int PrefixChars { get; set; } = 4096;

    /// <summary>Bounded-load factor: a replica takes a prefix only while its load is at most this times the mean (plus one).</summary>
    public double LoadFactor { get; set; } = 1.25;

    /// <summary>
    /// Requests a prefix's owner may carry above the mean before the prefix spills: small loads are noise, and
    /// a spill costs a whole prefill elsewhere.
    /// </summary>
    public double LoadSlack { get; set; } = 2;

    /// <summary>How often replicas' /metrics are read for queue depth and KV usage.</summary>
    public TimeSpan LoadPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often replicas' /health/ready is probed.</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// <c>per-key</c> (default): every generation request is forwarded with a <c>cache_salt</c> derived from its API
    /// key's id (and the client's own <c>cache_salt</c>, if any), so one key's prompts never hit another key's cached
    /// prefix and routing does not group them either. <c>global</c>: the prefix cache is shared by all keys (the
    /// client's <c>cache_salt</c> is forwarded as sent).
    /// </summary>
    public string PrefixCacheSharing { get; set; } = CacheSalt.PerKey;

    /// <summary>
    /// Optional secret for the per-key <c>cache_salt</c> (an HMAC key); every API instance of a deployment must use
    /// the same. Unset: a fixed label, which still isolates keys (a client cannot choose another key's salt) but
    /// lets someone who knows a key's id compute its salt.
    /// </summary>
    public string? CacheSaltSecret { get; set; }

    /// <summary><c>prefix</c> (default) or <c>round-robin</c> (for comparison benchmarks).</summary>
    public string Routing { get; set; } = "prefix";
}
