namespace Fathom.Testing;

/// <summary>
/// Starts <c>Fathom.EngineService</c> as a child process the way the tests need it: on a model file (stories260K
/// unless told otherwise), one thread, and ready once <c>/health/ready</c> says the model is loaded.
/// </summary>
public static class EngineServiceProcess
{
    /// <summary>The engine service's entry assembly, beside the test binaries of projects that reference it.</summary>
    public const string AssemblyFileName = "Fathom.EngineService.dll";

    /// <summary>
    /// Starts one engine. <paramref name="model"/> defaults to <see cref="SharedFixtures.Stories260K"/> (skipping the
    /// calling test, or failing it under FATHOM_REQUIRE_FIXTURES, when it is missing); <paramref name="arguments"/> follow
    /// the defaults and so override them; <paramref name="port"/> reuses a port (a restarted replica);
    /// <paramref name="readyTimeout"/> replaces the default 90 s wait (a model quantized on load takes longer).
    /// </summary>
    public static Task<ServiceProcess> StartAsync(
        string? model = null,
        IEnumerable<string>? arguments = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        int? port = null,
        string readyPath = "/health/ready",
        TimeSpan? readyTimeout = null) =>
        ServiceProcess.StartAsync(
            AssemblyFileName,
            ["--model", model ?? SharedFixtures.Default.GetPath(SharedFixtures.Stories260K), "--threads", "1", .. arguments ?? []],
            environment,
            readyPath,
            readyTimeout,
            port: port);
}
