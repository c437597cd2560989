using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Runtime.Intrinsics.X86;
using Fathom.Engine.Quantization;

namespace Fathom.Engine.Tests.Backends;

/// <summary>
/// Every CPU kernel tier below this machine's own, tested on this machine: the test assembly (a Microsoft.Testing.Platform
/// executable) runs itself again as a child process with one of the runtime's instruction-set switches off, restricted to
/// <see cref="KernelSuites"/>, and this test fails if the child does not report the tier it was forced to or any of its
/// tests fail. The tiers whose byte-dot instruction this machine lacks (AVX-VNNI, ARM64's dot product) run the same way
/// with that one instruction emulated (<see cref="KernelTiers.EmulateVariable"/>). The tier this process runs is covered
/// by the same suites run directly.
/// </summary>
public sealed class KernelTierTests
{
    /// <summary>
    /// The test classes every tier must pass: the shared backend conformance suite on the CPU backend (against the
    /// reference backend, batch invariance included; the many-thread variant is left to the direct run, threading being
    /// the same on every tier) and the quantization kernel tests. Kernel tests added later belong here too.
    /// </summary>
    internal static readonly string[] KernelSuites =
    [
        "Fathom.Engine.Tests.Backends.KernelTierExpectationTests",
        "Fathom.Engine.Tests.Backends.CpuBackendConformanceTests",
        "Fathom.Engine.Tests.Backends.CpuBackendInterleavedConformanceTests",
        "Fathom.Engine.Tests.Backends.SimdKernelsTests",
        "Fathom.Engine.Tests.Quantization.DotKernelTests",
        "Fathom.Engine.Tests.Quantization.ByteDotEmulationTests",
        "Fathom.Engine.Tests.Quantization.InterleavedMatMulTests",
        "Fathom.Engine.Tests.Quantization.InterleavedKQuantTests",
        "Fathom.Engine.Tests.Quantization.InterleavedInt4ZeroPointTests",
        "Fathom.Engine.Tests.Quantization.WidenedMatMulTests",
        "Fathom.Engine.Tests.Quantization.CheckpointLayoutTests",
        "Fathom.Engine.Tests.Quantization.Fp8E4M3Tests",
        "Fathom.Engine.Tests.Quantization.Fp8RowsKernelTests",
        "Fathom.Engine.Tests.Quantization.F16PairsTests",
    ];

    /// <summary>The variable through which the child learns which tier it must be running.</summary>
    internal const string ExpectedTierVariable = "FATHOM_EXPECT_TIER";

    /// <summary>Fewer than this many tests in the child means a filter stopped matching the suites.</summary>
    private const int MinimumChildTests = 100;

    private static readonly TimeSpan ChildTimeout = TimeSpan.FromSeconds(600); // the emulated tiers run slower; shared CI machines are loaded

    /// <summary>
    /// The runtime switch that forces each lower tier, the tier it leaves on this machine, and the tier whose byte-dot
    /// instruction the child emulates (<see cref="KernelTiers.EmulateVariable"/>) where this machine lacks it: AVX-VNNI
    /// on an x64 with AVX2 but without it (AVX-512 off, as on the AVX-VNNI desktops), ARM64's dot product on every x64
    /// (AVX2 off, so the 128-bit code runs as it does on ARM64).
    /// </summary>
    internal static (string Switch, string Tier, string? Emulate)[] ForcedTiers()
    {
        if (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64)
        {
            // Dp off gives the Vector128 tier where the CPU has the dot product; where it has not, that tier runs emulated.
            return KernelTiers.Current switch
            {
                KernelTier.NeonDot => [("DOTNET_EnableArm64Dp", KernelTiers.Name(KernelTier.Vector128), null)],
                KernelTier.Vector128 => [("DOTNET_EnableArm64Dp", KernelTiers.Name(KernelTier.NeonDot), KernelTiers.Name(KernelTier.NeonDot))],
                _ => [],
            };
        }

        (string, string, string?)[] tiers =
        [
            // DOTNET_EnableAVX512F=0 does nothing on .NET 10; the group switch turns all of AVX-512 off.
            ("DOTNET_EnableAVX512", KernelTiers.Name(Capped(KernelTiers.Supports(KernelTier.AvxVnni) ? KernelTier.AvxVnni : KernelTier.Avx2)), null),
            ("DOTNET_EnableAVX2", KernelTiers.Name(Capped(KernelTier.Vector128)), null),
        ];
        if (KernelTiers.Current >= KernelTier.Avx2 && !AvxVnni.IsSupported)
        {
            tiers = [.. tiers, ("DOTNET_EnableAVX512", KernelTiers.Name(KernelTier.AvxVnni), KernelTiers.Name(KernelTier.AvxVnni))];
        }

        if (KernelTiers.Current >= KernelTier.Vector128)
        {
            tiers = [.. tiers, ("DOTNET_EnableAVX2", KernelTiers.Name(KernelTier.NeonDot), KernelTiers.Name(KernelTier.NeonDot))];
        }

        return tiers;
    }

    [Fact]
    public async Task Every_forced_lower_tier_passes_the_kernel_suites()
    {
        // The children run side by side, one per core at most (each is mostly one thread; more at once only stretched
        // every child towards its timeout on a loaded machine).
        var tiers = ForcedTiers();
        using var cores = new SemaphoreSlim(Math.Max(2, Environment.ProcessorCount));
        var runs = await Task.WhenAll(tiers.Select(t => Task.Run(
            async () =>
            {
                await cores.WaitAsync(TestContext.Current.CancellationToken);
                try
                {
                    return RunChild(t.Switch, t.Tier, t.Emulate);
                }
                finally
                {
                    cores.Release();
                }
            },
            TestContext.Current.CancellationToken)));
        for (var i = 0; i < tiers.Length; i++)
        {
            var label = tiers[i].Emulate is { } emulated ? $"{tiers[i].Switch}=0 {KernelTiers.EmulateVariable}={emulated}" : $"{tiers[i].Switch}=0";
            AssertChildPassed(label, tiers[i].Tier, runs[i].ExitCode, runs[i].Output);
        }
    }

    private static void AssertChildPassed(string runtimeSwitch, string expectedTier, int exitCode, string output)
    {
        Assert.True(exitCode == 0, $"{runtimeSwitch} (expecting tier {expectedTier}) exited {exitCode}:\n{Tail(output)}");

        // The console runner's summary: "Total: N, Errors: 0, Failed: 0, ..."; a filter that matched nothing passes too.
        var summary = Regex.Match(output, @"Total: (\d+), Errors: (\d+), Failed: (\d+)");
        Assert.True(summary.Success, $"{runtimeSwitch}: no test summary from the child:\n{Tail(output)}");
        Assert.True(int.Parse(summary.Groups[1].Value, CultureInfo.InvariantCulture) >= MinimumChildTests, $"{runtimeSwitch}: the child ran too few tests:\n{Tail(output)}");
        Assert.Equal("0", summary.Groups[2].Value);
        Assert.Equal("0", summary.Groups[3].Value);
    }

    /// <summary>The tier a switch leaves: the switch's own ceiling, or this machine's tier where that is lower.</summary>
    private static KernelTier Capped(KernelTier ceiling) => KernelTiers.Current < ceiling ? KernelTiers.Current : ceiling;

    private static (int ExitCode, string Output) RunChild(string runtimeSwitch, string expectedTier, string? emulate)
    {
        var assembly = typeof(KernelTierTests).Assembly.Location;
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };

        // Under `dotnet test` this process is the test apphost; under `dotnet exec` it is dotnet with the dll first.
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add("exec");
            start.ArgumentList.Add(assembly);
        }

        // Without --server the xunit entry point runs its own console runner, which takes -class filters.
        foreach (var suite in KernelSuites)
        {
            start.ArgumentList.Add("-class");
            start.ArgumentList.Add(suite);
        }

        start.ArgumentList.Add("-noColor");

        // The child must not inherit a parent's own switches or test-platform plumbing (pipes of `dotnet test`).
        foreach (var name in start.Environment.Keys.ToArray())
        {
            if (name.StartsWith("DOTNET_Enable", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("TESTINGPLATFORM_", StringComparison.OrdinalIgnoreCase)
                || name.Equals(KernelTiers.EmulateVariable, StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(name);
            }
        }

        start.Environment[runtimeSwitch] = "0";
        start.Environment[ExpectedTierVariable] = expectedTier;
        if (emulate is not null)
        {
            start.Environment[KernelTiers.EmulateVariable] = emulate;
        }

        using var child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {host}");
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        if (!child.WaitForExit(ChildTimeout))
        {
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
            return (-1, $"timed out after {ChildTimeout.TotalSeconds} s\n{stdout.Result}{stderr.Result}");
        }

        return (child.ExitCode, stdout.Result + stderr.Result);
    }

    private static string Tail(string output) => output.Length <= 6000 ? output : output[^6000..];
}

/// <summary>
/// Run by <see cref="KernelTierTests"/> in a child process: the tier the runtime switches left is the one the parent
/// expected. Run directly (no expectation), the tier must agree with what the runtime reports about vector hardware.
/// </summary>
public sealed class KernelTierExpectationTests
{
    [Fact]
    public void The_current_tier_is_the_expected_one()
    {
        var expected = Environment.GetEnvironmentVariable(KernelTierTests.ExpectedTierVariable);
        if (!string.IsNullOrEmpty(expected))
        {
            Assert.Equal(expected, KernelTiers.Name(KernelTiers.Current));
            return;
        }

        var current = KernelTiers.Current;
        Assert.True(KernelTiers.Supports(current));
        Assert.Equal(System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated, current >= KernelTier.Vector128);
        if (Avx2.IsSupported || current >= KernelTier.Avx2)
        {
            Assert.Equal(Avx2.IsSupported && Fma.IsSupported, current >= KernelTier.Avx2);
        }
    }
}
