namespace Fathom.Models;

/// <summary>How the store finds its folder and the hub, and how it downloads.</summary>
public sealed record ModelStoreOptions
{
    /// <summary>The store's folder; null: <see cref="ModelStore.DefaultRoot"/> (<c>FATHOM_MODELS</c>, else <c>~/.cache/fathom/models</c>).</summary>
    public string? Root { get; init; }

    /// <summary>The hub and token; null: <see cref="HubSettings.FromEnvironment()"/>.</summary>
    public HubSettings? Hub { get; init; }

    /// <summary>Ranges downloaded at once for one large file.</summary>
    public int ParallelRanges { get; init; } = 4;

    /// <summary>Files at least this large are downloaded in <see cref="ParallelRanges"/> ranges; smaller ones in one.</summary>
    public long ParallelThresholdBytes { get; init; } = 64L << 20;

    /// <summary>Failed attempts in a row (without progress) that a range survives before the pull fails.</summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>The first wait before a retry; each further one doubles it (capped at 30 s).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one request may wait for the server's next bytes.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Free bytes at a folder; null: the file system's answer (<see cref="DriveInfo.AvailableFreeSpace"/>).</summary>
    public Func<string, long>? FreeSpaceProbe { get; init; }
}
