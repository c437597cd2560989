using Fathom.Testing;

namespace Fathom.EngineService.Tests;

public sealed class ServiceDefaultsEndpointsTests
{
    [Fact]
    public Task Health_alive_and_metrics_answer_on_loopback() =>
        ServiceDefaultsEndpoints.AssertAnswerOnLoopbackAsync(EngineServiceProcess.AssemblyFileName);
}
