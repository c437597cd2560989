namespace Fathom.Api.Gateway;

/// <summary>Why a replica was chosen: the values of the <c>fathom.route</c> label and the <c>x-fathom-route</c> header.</summary>
internal static class RouteKind
{
    /// <summary>The prefix's consistent-hash owner (it probably holds the prompt's KV blocks).</summary>
    public const string Prefix = "prefix";

    /// <summary>The least-loaded replica (no prefix, the owner over its load bound, or round-robin mode).</summary>
    public const string Load = "load";

    /// <summary>Another replica after the first choice failed before its first byte.</summary>
    public const string Failover = "failover";

    /// <summary>HttpContext.Items key of the kind of the current attempt.</summary>
    public const string Item = "fathom.route";
}
