using System.Diagnostics;
using System.Text.RegularExpressions;
using Fathom.Engine.Backends.Ilgpu;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// Every kernel compiles to PTX for sm_90 (Hopper) without a GPU, with no unresolved externals (ILGPU turns
/// some .NET intrinsics into calls to functions only libdevice would provide), and — where <c>ptxas</c> is on
/// PATH or in <c>FATHOM_PTXAS</c> — the PTX assembles for sm_80 and sm_90.
/// </summary>
public sealed partial class PtxCompilationTests
{
    public static TheoryData<string> Kernels => [.. IlgpuDevice.KernelMethods.Select(m => $"{m.DeclaringType!.Name}.{m.Name}")];

    [Fact]
    public void Catalog_lists_every_kernel()
    {
        Assert.Equal(23, IlgpuDevice.KernelMethods.Count);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Kernel_compiles_to_sm_90_ptx_that_assembles(string kernel)
    {
        var method = IlgpuDevice.KernelMethods.Single(m => $"{m.DeclaringType!.Name}.{m.Name}" == kernel);
        var ptx = CompileToPtx(method);
        if (Environment.GetEnvironmentVariable("FATHOM_PTX_DUMP") is { Length: > 0 } dump)
        {
            Directory.CreateDirectory(dump);
            File.WriteAllText(Path.Combine(dump, kernel + ".ptx"), ptx);
        }

        // ILGPU 1.5.3 writes ".target sm_80" even for an sm_90 backend (it uses no newer feature); the driver and
        // ptxas -arch=sm_90 accept PTX of an older target, so the check is on the ISA and an sm_8x/9x target.
        Assert.Contains(".version 7.8", ptx, StringComparison.Ordinal);
        Assert.Matches(@"\.target sm_(8\d|90)\b", ptx);
        Assert.Contains(".entry", ptx, StringComparison.Ordinal);
        Assert.DoesNotMatch(ExternPattern(), ptx);

        var ptxas = FindPtxas();
        if (ptxas is null)
        {
            return; // PTX-level checks only; .ci/run fetches ptxas when it can.
        }

        var file = Path.Combine(Path.GetTempPath(), $"fathom-{kernel}-{Environment.ProcessId}.ptx");
        File.WriteAllText(file, ptx);
        try
        {
            // sm_80 (A100) is the oldest target the tensor-core kernel's mma.sync m16n8k16 and cvt.rn.f16x2 exist on.
            foreach (var architecture in new[] { "sm_80", "sm_90" })
            {
                using var process = Process.Start(new ProcessStartInfo(ptxas, [$"-arch={architecture}", file, "-o", file + ".cubin"])
                {
                    RedirectStandardError = true,
                    RedirectStandardOutput = true,
                })!;
                var errors = process.StandardError.ReadToEnd();
                process.WaitForExit();
                Assert.True(process.ExitCode == 0, $"ptxas -arch={architecture} rejected {kernel}: {errors}");
            }
        }
        finally
        {
            File.Delete(file);
            File.Delete(file + ".cubin");
        }
    }

    [Fact]
    public void Tensor_core_kernel_emits_mma_sync_for_f16_and_bf16()
    {
        // The inline PTX is what runs on a GPU (the CPU accelerator runs the C# emulation): both variants must be there.
        var ptx = CompileToPtx(typeof(MatMulKernels).GetMethod(nameof(MatMulKernels.TiledMatMulKernel), System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!);
        Assert.Contains("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32", ptx, StringComparison.Ordinal);
        Assert.Contains("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32", ptx, StringComparison.Ordinal);
        Assert.Contains("cvt.rn.f16x2.f32", ptx, StringComparison.Ordinal);
        Assert.Contains("cvt.rn.bf16x2.f32", ptx, StringComparison.Ordinal);
    }

    internal static string CompileToPtx(System.Reflection.MethodInfo method)
    {
        using var context = Context.Create(b => b.Math(MathMode.Default).EnableAlgorithms());
        using var backend = new PTXBackend(context, CudaArchitecture.SM_90, CudaInstructionSet.ISA_78, nvvmAPI: null!);
        var entry = EntryPointDescription.FromExplicitlyGroupedKernel(method);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
        return compiled.PTXAssembly;
    }

    /// <summary><c>ptxas</c> from <c>FATHOM_PTXAS</c>, the cache <c>scripts/fetch-ptxas.sh</c> fills, or PATH.</summary>
    internal static string? FindPtxas()
    {
        if (Environment.GetEnvironmentVariable("FATHOM_PTXAS") is { Length: > 0 } configured && File.Exists(configured))
        {
            return configured;
        }

        var cacheRoot = Environment.GetEnvironmentVariable("FATHOM_CACHE") is { Length: > 0 } c ? c
            : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "fathom");
        var cached = Path.Combine(cacheRoot, "ptxas", "bin", "ptxas");
        if (File.Exists(cached))
        {
            return cached;
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(directory, "ptxas");
            if (directory.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    [GeneratedRegex(@"^\s*\.extern\s", RegexOptions.Multiline)]
    private static partial Regex ExternPattern();
}
