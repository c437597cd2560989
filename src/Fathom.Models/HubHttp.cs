using System.Net;
using System.Net.Http.Headers;

namespace Fathom.Models;

/// <summary>
/// The HTTP side of talking to the hub: follows redirects itself so that the token goes to the hub only (never to
/// the CDN a file redirects to), keeps the first response's <c>X-Linked-*</c> headers, and turns status codes into
/// the store's typed errors.
/// </summary>
internal sealed class HubHttp : IDisposable
{
    private const int MaxRedirects = 10;
    private readonly HttpClient _client;

    public HubHttp(HubSettings settings, TimeSpan readTimeout)
    {
        Settings = settings;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        ReadTimeout = readTimeout;
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("fathom/1.0");
    }

    public HubSettings Settings { get; }

    public TimeSpan ReadTimeout { get; }

    /// <summary>
    /// Sends a GET (or HEAD) to <paramref name="url"/>, following redirects; the caller owns the response. Headers
    /// of the first response (the hub's, before any CDN) come back beside it.
    /// </summary>
    public async Task<(HttpResponseMessage Response, HttpResponseHeaders FirstHeaders)> SendAsync(
        Uri url, HttpMethod method, RangeHeaderValue? range, CancellationToken cancellationToken)
    {
        HttpResponseHeaders? first = null;
        var current = url;
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, current);
            request.Headers.Range = range;
            if (Settings.Token is { } token && SameOrigin(current, Settings.Endpoint))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ReadTimeout);
            HttpResponseMessage response;
            try
            {
                response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new HttpRequestException($"no answer from {current.Authority} within {ReadTimeout.TotalSeconds:0} s", e);
            }

            first ??= response.Headers;
            int status = (int)response.StatusCode;
            if (status is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                response.Dispose();
                if (hop >= MaxRedirects)
                {
                    throw new HttpRequestException($"more than {MaxRedirects} redirects from {url}");
                }

                current = location.IsAbsoluteUri ? location : new Uri(current, location);
                continue;
            }

            return (response, first);
        }
    }

    /// <summary>Throws the store's typed error for a failed response; 5xx and 429 become <see cref="HttpRequestException"/> (retried).</summary>
    public void ThrowIfFailed(HttpResponseMessage response, string what, string repository)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string errorCode = response.Headers.TryGetValues("X-Error-Code", out var codes) ? codes.FirstOrDefault() ?? "" : "";
        string hubMessage = response.Headers.TryGetValues("X-Error-Message", out var messages) ? messages.FirstOrDefault() ?? "" : "";
        int status = (int)response.StatusCode;
        bool hasToken = Settings.Token is not null;
        if (errorCode == "RepoNotFound" || (status == 401 && errorCode.Length == 0 && !hasToken && what.StartsWith("repository", StringComparison.Ordinal)))
        {
            throw new ModelNotFoundException(
                $"{repository} was not found on {Settings.Endpoint.Authority}" + (hasToken ? "" : " (if it is private, set HF_TOKEN)"));
        }

        if (errorCode == "GatedRepo" || status is 401 or 403)
        {
            throw new GatedModelException(hasToken
                ? $"{repository} is gated and the token in HF_TOKEN has no access to it: accept its terms at {Settings.Endpoint}/{repository} with that account ({status}{Detail(hubMessage)})"
                : $"{repository} is gated or private: set HF_TOKEN to a token of an account that accepted its terms at {Settings.Endpoint}/{repository} ({status}{Detail(hubMessage)})");
        }

        if (status == 404)
        {
            throw new ModelNotFoundException($"{what} was not found on {Settings.Endpoint.Authority} (404{Detail(hubMessage)})");
        }

        if (status == 429 || status >= 500)
        {
            throw new HttpRequestException($"{Settings.Endpoint.Authority} answered {status} for {what}", null, response.StatusCode);
        }

        throw new ModelPullException($"{Settings.Endpoint.Authority} answered {status} for {what}{Detail(hubMessage)}");
    }

    public void Dispose() => _client.Dispose();

    private static string Detail(string hubMessage) => hubMessage.Length > 0 ? $": {hubMessage}" : "";

    private static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;
}
