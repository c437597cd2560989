using Fathom.Api.Security;
using Yarp.ReverseProxy.Forwarder;

namespace Fathom.Api.Gateway;

/// <summary>
/// YARP's client factory with <see cref="StreamFailureHandler"/> around the handler that talks to replicas, and the
/// gateway token (<see cref="GatewayTokenHandler"/>) on every forwarded request and active health probe.
/// </summary>
internal sealed class GatewayHttpClientFactory(GatewayToken token) : ForwarderHttpClientFactory
{
    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        new StreamFailureHandler(new GatewayTokenHandler(token) { InnerHandler = base.WrapHandler(context, handler) });
}
