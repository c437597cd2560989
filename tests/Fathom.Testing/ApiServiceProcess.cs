namespace Fathom.Testing;

/// <summary>Starts <c>Fathom.Api</c> as a child process in front of engine replicas.</summary>
public static class ApiServiceProcess
{
    /// <summary>The API's entry assembly, beside the test binaries of projects that reference it.</summary>
    public const string AssemblyFileName = "Fathom.Api.dll";

    /// <summary>
    /// Starts the API with <paramref name="replicas"/> as <c>services__engine__http__{i}</c> (its configuration
    /// contract, as the AppHost sets it) plus <paramref name="environment"/>; ready when <c>/health</c> answers.
    /// </summary>
    public static Task<ServiceProcess> StartAsync(IEnumerable<Uri> replicas, IReadOnlyDictionary<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(replicas);
        var env = new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>());
        int i = 0;
        foreach (var replica in replicas)
        {
            env[$"services__engine__http__{i++}"] = replica.ToString().TrimEnd('/');
        }

        return ServiceProcess.StartAsync(AssemblyFileName, environment: env);
    }
}
