using Fathom.Testing;

namespace Fathom.ChatPage.Tests;

/// <summary>
/// The browser the tests drive: the system's chromium (Debian's <c>chromium</c> package, which .ci/run installs), or
/// <c>$FATHOM_CHROMIUM</c>. Playwright never downloads one. A missing browser skips the tests, or fails them under
/// FATHOM_REQUIRE_FIXTURES=1 (CI), like a missing model.
/// </summary>
internal static class SystemChromium
{
    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium"];

    /// <summary>The browser's executable, or null when none is installed.</summary>
    public static string? Find() =>
        Environment.GetEnvironmentVariable("FATHOM_CHROMIUM") is { Length: > 0 } configured
            ? (File.Exists(configured) ? configured : null)
            : Candidates.FirstOrDefault(File.Exists);

    /// <summary>The browser's executable; skips (or, when fixtures are required, fails) the calling test when none is installed.</summary>
    public static string Require()
    {
        if (Find() is { } path)
        {
            return path;
        }

        const string Message = "chromium is not installed (apt-get install chromium, or set FATHOM_CHROMIUM)";
        if (SharedFixtures.RequiredByEnvironment())
        {
            throw new FixtureException(Message + " (FATHOM_REQUIRE_FIXTURES=1)");
        }

        Assert.Skip(Message);
        return "";
    }
}
