using Fathom.Cli.Commands;
using Fathom.Models;

namespace Fathom.Cli.Tests.Commands;

public sealed class PullProgressDisplayTests
{
    private static PullProgress At(PullStage stage, long done, double rate, TimeSpan? eta) =>
        new("hf.co/acme/Tiny-GGUF:Q4_K_M", stage, "Q4_K_M/Tiny-Q4_K_M-00002-of-00003.gguf", 2, 3, done, 4L << 30, rate, eta);

    [Fact]
    public void A_terminal_gets_one_bar_redrawn_in_place_and_a_newline_at_the_end()
    {
        using var writer = new StringWriter();
        var bar = new PullProgressBar(writer);

        bar.Report(At(PullStage.Downloading, 1L << 30, 50 << 20, TimeSpan.FromSeconds(61)));
        bar.Report(At(PullStage.Downloading, 2L << 30, 50 << 20, TimeSpan.FromSeconds(41)));
        bar.Report(At(PullStage.Complete, 4L << 30, 50 << 20, TimeSpan.Zero));

        string text = writer.ToString();
        Assert.Equal(3, text.Count(c => c == '\r'));
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("pulling [########......................] Tiny-Q4_K_M-00002-of-00003.gguf (2/3)  25% 1.0 GiB of 4.0 GiB, 50.0 MiB/s, ETA 0:01:01", text);
        Assert.Contains("[###############...............]", text);
        // The last redraw pads over the longer line before it (its ETA), then ends the line.
        Assert.EndsWith("100% 4.0 GiB of 4.0 GiB, 50.0 MiB/s complete", text.TrimEnd());
        Assert.EndsWith(" " + Environment.NewLine, text);
    }

    [Fact]
    public void Plain_lines_come_on_each_new_file_or_stage_and_otherwise_at_the_interval()
    {
        using var writer = new StringWriter();
        var lines = new PullProgressLines(writer, TimeSpan.FromHours(1));

        lines.Report(At(PullStage.Downloading, 0, 0, null));
        lines.Report(At(PullStage.Downloading, 1L << 30, 1 << 20, TimeSpan.FromHours(200)));
        lines.Report(At(PullStage.Verifying, 4L << 30, 1 << 20, null));

        var written = writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, written.Length);
        Assert.Equal("pulling hf.co/acme/Tiny-GGUF:Q4_K_M: Tiny-Q4_K_M-00002-of-00003.gguf (2/3)   0% 0 B of 4.0 GiB", written[0]);
        Assert.EndsWith("100% 4.0 GiB of 4.0 GiB, 1.0 MiB/s checking SHA-256", written[1]);
    }
}
