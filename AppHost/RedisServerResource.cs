namespace Fathom.AppHost;

/// <summary>
/// A <c>redis-server</c> process from the machine's PATH, run by the orchestrator like any executable and
/// referenced like any Redis: its connection string is the host and port the orchestrator allocated. It listens on
/// loopback only, so it has no password (docs/security.md); a deployment gets a password-protected container.
/// </summary>
internal sealed class RedisServerResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    private EndpointReference? _endpoint;

    public EndpointReference Endpoint => _endpoint ??= new(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Endpoint.Property(EndpointProperty.HostAndPort)}");
}
