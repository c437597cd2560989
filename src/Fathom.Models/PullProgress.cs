namespace Fathom.Models;

/// <summary>A snapshot of a pull, reported through <see cref="IProgress{T}"/> a few times a second.</summary>
/// <param name="Reference">The model being pulled.</param>
/// <param name="Stage">What is happening.</param>
/// <param name="File">The file being downloaded or checked (repository path), or null.</param>
/// <param name="FileIndex">1-based index of <paramref name="File"/> among <paramref name="FileCount"/>.</param>
/// <param name="FileCount">Files the pull downloads.</param>
/// <param name="BytesDone">Bytes of all files on disk so far (resumed bytes included).</param>
/// <param name="BytesTotal">Bytes of all files.</param>
/// <param name="BytesPerSecond">Download rate of this run (resumed bytes excluded).</param>
/// <param name="Eta">Estimated time left, or null when the rate is not known yet.</param>
public sealed record PullProgress(
    string Reference,
    PullStage Stage,
    string? File,
    int FileIndex,
    int FileCount,
    long BytesDone,
    long BytesTotal,
    double BytesPerSecond,
    TimeSpan? Eta)
{
    /// <summary>Fraction done, 0 to 1.</summary>
    public double Fraction => BytesTotal > 0 ? Math.Clamp((double)BytesDone / BytesTotal, 0, 1) : Stage == PullStage.Complete ? 1 : 0;
}
