namespace Fathom.EngineService;

/// <summary>
/// The model served when none is configured, so that the service (and the AppHost) always starts: the shared
/// <c>stories260K.gguf</c> when <c>FATHOM_SHARED</c> or a <c>shared/</c> folder beside the repository has it,
/// else a tiny synthetic Llama written once to the temp folder by <see cref="SyntheticModel"/>.
/// </summary>
internal static partial class BuiltInModel
{
    private const string SharedModel = "models/stories260K.gguf";

    public static string Resolve(ILogger logger)
    {
        string? shared = FindShared();
        if (shared is not null)
        {
            LogShared(logger, shared);
            return shared;
        }

        string path = Path.Combine(Path.GetTempPath(), $"fathom-builtin-{SyntheticModel.Version}.gguf");
        if (!File.Exists(path))
        {
            string partial = $"{path}.{Environment.ProcessId}.tmp";
            SyntheticModel.Write(partial);
            File.Move(partial, path, overwrite: true);
        }

        LogSynthetic(logger, path);
        return path;
    }

    private static string? FindShared()
    {
        if (Environment.GetEnvironmentVariable("FATHOM_SHARED") is { Length: > 0 } root)
        {
            string candidate = Path.Combine(root, SharedModel);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        // ../shared beside the repository root: walk up from the binaries and from the working directory.
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "shared", SharedModel);
                if (File.Exists(candidate) && !candidate.StartsWith(Path.GetTempPath(), StringComparison.Ordinal))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "No Fathom:Model configured: serving the shared {Path}")]
    private static partial void LogShared(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "No Fathom:Model configured and no shared model found: serving the synthetic {Path}")]
    private static partial void LogSynthetic(ILogger logger, string path);
}
