using Fathom.Engine;

namespace Fathom.Engine.Tests;

public sealed class EngineInfoTests
{
    [Fact]
    public void Version_is_reported() => Assert.Matches(@"^\d+\.\d+\.\d+", FathomEngineInfo.Version);
}
