using System.Net.Http.Headers;

namespace Fathom.Api.Security;

/// <summary>
/// On every request the API sends to an engine (forwarded calls, YARP's probes, the load poll, the model list):
/// <c>Authorization: Bearer</c> the gateway token (<c>Fathom:GatewayToken</c>) when one is configured, which engines
/// that share it require; otherwise no Authorization at all. Either way the client's API key stays at the API.
/// </summary>
internal sealed class GatewayTokenHandler(GatewayToken token) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = token.Value is { } value ? new AuthenticationHeaderValue("Bearer", value) : null;
        return base.SendAsync(request, cancellationToken);
    }
}
