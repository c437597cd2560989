namespace Fathom.Testing;

/// <summary>Locates the repository's root (the folder holding App.sln) from the test binaries.</summary>
public static class RepositoryRoot
{
    /// <summary>The root, or null when the tests run outside a checkout.</summary>
    public static string? TryFind()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "App.sln")))
            {
                return dir.FullName;
            }
        }
        return null;
    }

    /// <summary>The root; throws when not inside a checkout.</summary>
    public static string Find() =>
        TryFind() ?? throw new InvalidOperationException($"App.sln not found above {AppContext.BaseDirectory}");
}
