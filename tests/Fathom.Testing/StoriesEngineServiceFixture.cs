using Xunit;

namespace Fathom.Testing;

/// <summary>
/// One real engine service on <c>stories260K.gguf</c> for the connectors' end-to-end tests. The test project must
/// reference Fathom.EngineService so that <c>Fathom.EngineService.dll</c> lies beside its binaries.
/// </summary>
public sealed class StoriesEngineServiceFixture : IAsyncLifetime
{
    public const string ModelFile = "models/stories260K.gguf";
    public const string ModelName = "stories260K";

    private ServiceProcess? _service;

    public Uri BaseAddress => (_service ?? throw new InvalidOperationException("the engine service did not start")).BaseAddress;

    /// <summary>Path of the model; skips (or fails under FATHOM_REQUIRE_FIXTURES) when it is missing.</summary>
    public static string ModelPath => SharedFixtures.Default.GetPath(ModelFile);

    public async ValueTask InitializeAsync()
    {
        if (SharedFixtures.Default.Exists(ModelFile))
        {
            _service = await ServiceProcess.StartAsync("Fathom.EngineService.dll",
                ["--model", SharedFixtures.Default.GetPath(ModelFile), "--threads", "1"], readyPath: "/health/ready");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }
    }
}
