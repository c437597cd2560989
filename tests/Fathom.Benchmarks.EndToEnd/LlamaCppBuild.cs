using Fathom.Engine.Quantization;
using LLama.Native;

/// <summary>Which of LLamaSharp's native llama.cpp builds (noavx/avx/avx2/avx512) this process loads.</summary>
internal static class LlamaCppBuild
{
    /// <summary>llama.cpp's native build matching Fathom's tier (auto), or the one asked for.</summary>
    public static AvxLevel Parse(string value) => value switch
    {
        "avx512" => AvxLevel.Avx512,
        "avx2" => AvxLevel.Avx2,
        "auto" => KernelTiers.Current switch
        {
            KernelTier.Avx512 => AvxLevel.Avx512,
            KernelTier.Avx2 or KernelTier.AvxVnni => AvxLevel.Avx2,
            _ => AvxLevel.None,
        },
        _ => throw new ArgumentException($"--llama-avx must be auto, avx2 or avx512, not '{value}'"),
    };

    /// <summary>
    /// Selects the build before anything loads the native library. LLamaSharp's own selection falls back silently (and
    /// refuses a build above what .NET reports), so on linux-x64 the build's folder is named outright; elsewhere the
    /// preference is passed on.
    /// </summary>
    public static void Select(AvxLevel level)
    {
        var folder = level switch { AvxLevel.Avx512 => "avx512", AvxLevel.Avx2 => "avx2", AvxLevel.Avx => "avx", _ => "noavx" };
        var library = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", folder, "libllama.so");
        if (OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64 && File.Exists(library))
        {
            NativeLibraryConfig.All.WithLibrary(library, null);
        }
        else
        {
            NativeLibraryConfig.All.WithAvx(level);
        }
    }

    /// <summary>Which llama.cpp CPU library this process mapped (its folder names the build), from /proc/self/maps.</summary>
    public static string Loaded()
    {
        const string Maps = "/proc/self/maps";
        var line = File.Exists(Maps) ? File.ReadLines(Maps).FirstOrDefault(l => l.EndsWith("/libggml-cpu.so", StringComparison.Ordinal)) : null;
        return line is null ? "unknown" : Path.GetFileName(Path.GetDirectoryName(line[line.IndexOf('/', StringComparison.Ordinal)..])) ?? "unknown";
    }
}
