using System.Diagnostics;

namespace Fathom.Models;

/// <summary>Counts a pull's bytes (from several range tasks at once) and reports <see cref="PullProgress"/> at most ten times a second.</summary>
internal sealed class PullTracker(string reference, IProgress<PullProgress>? progress, long bytesTotal, int fileCount)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private long _done;
    private long _downloaded;
    private TimeSpan _lastReport = TimeSpan.MinValue;
    private string? _file;
    private int _fileIndex;
    private PullStage _stage = PullStage.Downloading;

    public void StartFile(string name, int index, long resumedBytes)
    {
        lock (_gate)
        {
            _file = name;
            _fileIndex = index;
            _stage = PullStage.Downloading;
        }

        Interlocked.Add(ref _done, resumedBytes);
        Report(force: true);
    }

    public void Add(long bytes)
    {
        Interlocked.Add(ref _done, bytes);
        Interlocked.Add(ref _downloaded, bytes);
        Report(force: false);
    }

    public void SetStage(PullStage stage)
    {
        lock (_gate)
        {
            _stage = stage;
        }

        Report(force: true);
    }

    public void Report(bool force)
    {
        if (progress is null)
        {
            return;
        }

        PullProgress snapshot;
        lock (_gate)
        {
            var now = _clock.Elapsed;
            if (!force && now - _lastReport < Interval)
            {
                return;
            }

            _lastReport = now;
            long done = Interlocked.Read(ref _done);
            double seconds = now.TotalSeconds;
            double rate = seconds > 0.2 ? Interlocked.Read(ref _downloaded) / seconds : 0;
            TimeSpan? eta = rate > 0 && bytesTotal > done ? TimeSpan.FromSeconds((bytesTotal - done) / rate) : _stage == PullStage.Complete ? TimeSpan.Zero : null;
            snapshot = new PullProgress(reference, _stage, _file, _fileIndex, fileCount, done, bytesTotal, rate, eta);
        }

        progress.Report(snapshot);
    }
}
