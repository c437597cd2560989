using Fathom.Testing;

namespace Fathom.Api.Tests;

public sealed class ServiceDefaultsEndpointsTests
{
    [Fact]
    public Task Health_alive_and_metrics_answer_on_loopback() =>
        ServiceDefaultsEndpoints.AssertAnswerOnLoopbackAsync(ApiServiceProcess.AssemblyFileName);
}
