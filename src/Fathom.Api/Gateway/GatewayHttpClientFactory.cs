using Yarp.ReverseProxy.Forwarder;

namespace Fathom.Api.Gateway;

/// <summary>YARP's client factory with <see cref="StreamFailureHandler"/> around the handler that talks to replicas.</summary>
internal sealed class GatewayHttpClientFactory : ForwarderHttpClientFactory
{
    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler) =>
        new StreamFailureHandler(base.WrapHandler(context, handler));
}
