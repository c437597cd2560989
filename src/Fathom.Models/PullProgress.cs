using System.Globalization;

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

    /// <summary>One line for people: <c>file (2/3)  45% 1.2 GiB of 2.6 GiB, 48.0 MiB/s, ETA 0:00:31</c>.</summary>
    public string Describe()
    {
        string file = File is null ? "" : $"{Path.GetFileName(File)} ({FileIndex}/{FileCount}) ";
        string stage = Stage switch
        {
            PullStage.Waiting => " waiting for another pull of this model",
            PullStage.Verifying => " checking SHA-256",
            PullStage.Complete => " complete",
            _ => "",
        };
        string rate = BytesPerSecond > 0 ? $", {ModelStore.FormatBytes((long)BytesPerSecond)}/s" : "";
        string eta = Eta is { } t && Stage == PullStage.Downloading
            ? t.TotalHours >= 100 ? ", ETA >99h" : string.Create(CultureInfo.InvariantCulture, $", ETA {(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}")
            : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{file}{(int)Math.Floor(Fraction * 100),3}% {ModelStore.FormatBytes(BytesDone)} of {ModelStore.FormatBytes(BytesTotal)}{rate}{eta}{stage}");
    }
}
