using System.Globalization;
using Fathom.Models;

namespace Fathom.Cli.Commands;

/// <summary>How a pull's progress reads: <c>file (2/3) 45% 1.2 GiB of 2.6 GiB, 48.0 MiB/s, ETA 0:00:31</c>.</summary>
internal static class PullProgressFormat
{
    public static string Describe(PullProgress p)
    {
        string file = p.File is null ? "" : $"{Path.GetFileName(p.File)} ({p.FileIndex}/{p.FileCount}) ";
        string stage = p.Stage switch
        {
            PullStage.Waiting => "waiting for another pull of this model",
            PullStage.Verifying => "checking SHA-256",
            PullStage.Complete => "complete",
            _ => "",
        };
        string rate = p.BytesPerSecond > 0 ? $", {ModelStore.FormatBytes((long)p.BytesPerSecond)}/s" : "";
        string eta = p.Eta is { } t && p.Stage == PullStage.Downloading ? $", ETA {Eta(t)}" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{file}{(int)Math.Floor(p.Fraction * 100),3}% {ModelStore.FormatBytes(p.BytesDone)} of {ModelStore.FormatBytes(p.BytesTotal)}{rate}{eta}{(stage.Length > 0 ? " " + stage : "")}");
    }

    private static string Eta(TimeSpan t) =>
        t.TotalHours >= 100 ? ">99h" : string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}");
}

/// <summary>A terminal's progress bar, redrawn in place with <c>\r</c>.</summary>
internal sealed class PullProgressBar(TextWriter error) : IProgress<PullProgress>
{
    private const int Width = 30;
    private readonly Lock _gate = new();
    private int _lastLength;

    public void Report(PullProgress value)
    {
        lock (_gate)
        {
            if (value.Stage == PullStage.Waiting)
            {
                error.WriteLine($"pulling {value.Reference}: {PullProgressFormat.Describe(value)}");
                return;
            }

            int filled = (int)Math.Round(value.Fraction * Width);
            string line = $"pulling [{new string('#', filled)}{new string('.', Width - filled)}] {PullProgressFormat.Describe(value)}";
            error.Write("\r" + line.PadRight(_lastLength));
            _lastLength = line.Length;
            if (value.Stage == PullStage.Complete)
            {
                error.WriteLine();
                _lastLength = 0;
            }

            error.Flush();
        }
    }
}

/// <summary>Progress as whole lines for logs and pipes: one when a file starts, then one every <c>interval</c>, and one at the end.</summary>
internal sealed class PullProgressLines(TextWriter error, TimeSpan interval) : IProgress<PullProgress>
{
    private readonly Lock _gate = new();
    private DateTime _last = DateTime.MinValue;
    private (string?, PullStage) _lastState;

    public void Report(PullProgress value)
    {
        lock (_gate)
        {
            var state = (value.File, value.Stage);
            if (state == _lastState && DateTime.UtcNow - _last < interval)
            {
                return;
            }

            _lastState = state;
            _last = DateTime.UtcNow;
            error.WriteLine($"pulling {value.Reference}: {PullProgressFormat.Describe(value)}");
            error.Flush();
        }
    }
}
