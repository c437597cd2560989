namespace Fathom.Testing;

/// <summary>Starts <c>Fathom.Api</c> as a child process in front of engine replicas.</summary>
public static class ApiServiceProcess
{
    /// <summary>The API's entry assembly, beside the test binaries of projects that reference it.</summary>
    public const string AssemblyFileName = "Fathom.Api.dll";

    /// <summary>
    /// Starts the API with <paramref name="replicas"/> as <c>services__engine__http__{i}</c> (its configuration
    /// contract, as the AppHost sets it) plus <paramref name="environment"/>; ready when <c>/health/ready</c> answers
    /// (a probe, served on every port in every environment). In Development, as <see cref="ServiceProcess"/> starts
    /// services, unless <paramref name="environment"/> sets <c>ASPNETCORE_ENVIRONMENT</c>: outside it the API needs keys
    /// or <c>Fathom__Api__AllowAnonymous</c>. <paramref name="managementPort"/>: also listen on that loopback port and
    /// make it <c>Fathom:Api:ManagementPort</c>.
    /// </summary>
    public static Task<ServiceProcess> StartAsync(
        IEnumerable<Uri> replicas, IReadOnlyDictionary<string, string?>? environment = null, int? managementPort = null)
    {
        ArgumentNullException.ThrowIfNull(replicas);
        var env = new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>());
        int i = 0;
        foreach (var replica in replicas)
        {
            env[$"services__engine__http__{i++}"] = replica.ToString().TrimEnd('/');
        }

        if (managementPort is { } port)
        {
            env["Fathom__Api__ManagementPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return ServiceProcess.StartAsync(AssemblyFileName, environment: env, readyPath: "/health/ready",
            morePorts: managementPort is { } extra ? [extra] : null);
    }
}
