using Fathom.Models;

namespace Fathom.Cli.Commands;

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
                error.WriteLine($"pulling {value.Reference}: {value.Describe()}");
                return;
            }

            int filled = (int)Math.Round(value.Fraction * Width);
            string line = $"pulling [{new string('#', filled)}{new string('.', Width - filled)}] {value.Describe()}";
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
            error.WriteLine($"pulling {value.Reference}: {value.Describe()}");
            error.Flush();
        }
    }
}
