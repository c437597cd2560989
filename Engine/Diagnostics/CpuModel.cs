using System.Diagnostics;
using Microsoft.Win32;

namespace Fathom.Engine.Diagnostics;

/// <summary>
/// The CPU's marketing name for benchmark output and tables (<c>fathom bench</c>, the benchmark runners): Linux's
/// /proc/cpuinfo "model name", Windows' ProcessorNameString, macOS's <c>machdep.cpu.brand_string</c>; "unknown" where
/// none is found (e.g. an ARM64 Linux kernel that reports only part numbers).
/// </summary>
public static class CpuModel
{
    private static readonly Lazy<string> Cached = new(Read);

    /// <summary>The CPU model name, or <c>unknown</c>.</summary>
    public static string Name => Cached.Value;

    private static string Read()
    {
        try
        {
            var name = OperatingSystem.IsWindows() ? FromRegistry()
                : OperatingSystem.IsMacOS() ? FromSysctl()
                : FromCpuInfo();
            return string.IsNullOrWhiteSpace(name) ? "unknown" : name.Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return "unknown";
        }
    }

    private static string? FromCpuInfo()
    {
        const string CpuInfo = "/proc/cpuinfo";
        return File.Exists(CpuInfo)
            ? File.ReadLines(CpuInfo).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1]
            : null;
    }

    [System.Runtime.Versioning.SupportedOSPlatform("windows")]
    private static string? FromRegistry() =>
        Registry.GetValue(@"HKEY_LOCAL_MACHINE\HARDWARE\DESCRIPTION\System\CentralProcessor\0", "ProcessorNameString", null) as string;

    private static string? FromSysctl()
    {
        using var process = Process.Start(new ProcessStartInfo("sysctl", "-n machdep.cpu.brand_string") { RedirectStandardOutput = true, UseShellExecute = false });
        if (process is null)
        {
            return null;
        }

        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }
}
