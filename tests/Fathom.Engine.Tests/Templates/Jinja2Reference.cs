using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Fathom.Engine.Tests.Templates;

/// <summary>
/// Python's jinja2, configured as transformers configures it (Templates/Corpus/render_jinja2.py), run as a process:
/// the reference Fathom's Jinja interpreter is compared with. Without python3 or jinja2 the calling test is skipped,
/// or fails under FATHOM_REQUIRE_FIXTURES=1 (CI installs Debian's python3-jinja2).
/// </summary>
internal static class Jinja2Reference
{
    private static string Script => Path.Combine(AppContext.BaseDirectory, "Templates", "Corpus", "render_jinja2.py");

    /// <summary>Renders each (template, variables) job; each result is <c>{"output": …}</c> or <c>{"error": …, "raised": bool}</c>.</summary>
    public static JsonElement[] Render(IReadOnlyList<(string Template, IReadOnlyDictionary<string, object?> Variables)> jobs, DateTime now)
    {
        var request = new Dictionary<string, object?>
        {
            ["now"] = now.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture),
            ["jobs"] = jobs.Select(j => new Dictionary<string, object?> { ["template"] = j.Template, ["variables"] = j.Variables }).ToList(),
        };
        string input = JsonSerializer.Serialize(request);
        var start = new ProcessStartInfo("python3", [Script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Unavailable($"python3 cannot be started ({e.Message})");
            throw;
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            process.StandardInput.Write(input);
            process.StandardInput.Close();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill();
                Assert.Fail("render_jinja2.py did not finish in 2 minutes");
            }

            string errors = stderr.GetAwaiter().GetResult();
            if (process.ExitCode != 0 && errors.Contains("No module named 'jinja2'", StringComparison.Ordinal))
                Unavailable("Python's jinja2 is not installed (Debian: python3-jinja2)");
            Assert.True(process.ExitCode == 0, $"render_jinja2.py failed: {errors}");
            return [.. JsonDocument.Parse(stdout.GetAwaiter().GetResult()).RootElement.EnumerateArray().Select(e => e.Clone())];
        }
    }

    // Without the reference there is nothing to compare with: skipped locally, a failure where fixtures are required (CI).
    private static void Unavailable(string why)
    {
        if (Environment.GetEnvironmentVariable("FATHOM_REQUIRE_FIXTURES") == "1")
            Assert.Fail($"The jinja2 reference is required (FATHOM_REQUIRE_FIXTURES=1) but {why}.");
        Assert.Skip($"The jinja2 reference is unavailable: {why}.");
    }
}
