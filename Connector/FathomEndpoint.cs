namespace Fathom.Connector;

/// <summary>Resolves request URIs from a service's base address, which may or may not end in <c>/v1</c>.</summary>
internal static class FathomEndpoint
{
    /// <summary>
    /// Returns the API root ending in <c>/v1/</c>: <c>http://host:5000</c>, <c>http://host:5000/</c>,
    /// <c>http://host:5000/v1</c> and <c>http://host:5000/v1/</c> all give <c>http://host:5000/v1/</c>;
    /// a path prefix (a reverse proxy's) is kept.
    /// </summary>
    public static Uri ApiRoot(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (!endpoint.IsAbsoluteUri)
        {
            throw new ArgumentException($"The Fathom endpoint must be an absolute URI (got '{endpoint}').", nameof(endpoint));
        }

        var builder = new UriBuilder(endpoint) { Query = string.Empty, Fragment = string.Empty };
        var path = builder.Path.TrimEnd('/');
        if (!path.EndsWith("/v1", StringComparison.OrdinalIgnoreCase))
        {
            path += "/v1";
        }

        builder.Path = path + "/";
        return builder.Uri;
    }

    /// <summary>The chat completions URI under <paramref name="endpoint"/>.</summary>
    public static Uri ChatCompletions(Uri endpoint) => new(ApiRoot(endpoint), "chat/completions");
}
