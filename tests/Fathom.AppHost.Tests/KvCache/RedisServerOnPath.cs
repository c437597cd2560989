namespace Fathom.AppHost.Tests.KvCache;

/// <summary>Debian's redis-server, which the run-mode tests use as the cache; they skip without it.</summary>
internal static class RedisServerOnPath
{
    public static string? TryFind() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "redis-server"))
            .FirstOrDefault(File.Exists);

    public static string Find()
    {
        var path = TryFind();
        if (path is null)
        {
            Assert.Skip("redis-server is not on PATH (apt-get install redis-server)");
        }
        return path;
    }
}
