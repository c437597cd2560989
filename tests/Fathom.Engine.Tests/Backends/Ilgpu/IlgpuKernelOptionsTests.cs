using Fathom.Engine.Backends.Ilgpu;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Tests.Model;
using Fathom.Gguf;
using Fathom.Testing;
using ILGPU.Runtime;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// The bisection switches (<see cref="IlgpuKernelOptions"/>): parsed from the environment, and each one really sends
/// its launches to the older kernel while the results stay within the precision of the path it turned off.
/// </summary>
public sealed class IlgpuKernelOptionsTests(Warp32CpuDevice warp32)
    : IClassFixture<Warp32CpuDevice>
{
    private const double U = 1.0 / (1 << 24);

    [Fact]
    public void Switches_read_zero_false_and_off_as_off_and_reject_anything_else()
    {
        Assert.Equal(IlgpuKernelOptions.All, IlgpuKernelOptions.FromEnvironment(_ => null));
        Assert.Equal(IlgpuKernelOptions.All, IlgpuKernelOptions.FromEnvironment(_ => " 1 "));
        var read = new Dictionary<string, string>
        {
            [IlgpuKernelOptions.TensorCoresVariable] = "0",
            [IlgpuKernelOptions.Int8InputVariable] = "off",
            [IlgpuKernelOptions.FlashAttentionVariable] = "",
        };
        Assert.Equal(new IlgpuKernelOptions(TensorCores: false, Int8Input: false), IlgpuKernelOptions.FromEnvironment(name => read.GetValueOrDefault(name)));
        Assert.Equal(new IlgpuKernelOptions(FlashAttention: false), IlgpuKernelOptions.FromEnvironment(name => name == IlgpuKernelOptions.FlashAttentionVariable ? "FALSE" : null));
        var e = Assert.Throws<ArgumentException>(() => IlgpuKernelOptions.FromEnvironment(name => name == IlgpuKernelOptions.Int8InputVariable ? "no" : null));
        Assert.Contains("FATHOM_ILGPU_INT8_INPUT=no", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tensor_core_switch_sends_launches_to_the_warp_per_row_kernel()
    {
        const int K = 64, N = 9, Rows = 20;
        var random = new Random(24);
        using var w = new QuantizedWeight(GgmlType.Q8_0, K, N, random);
        var x = IlgpuKernelTests.RandomArray(random, Rows * K);
        var on = new MatMulKernels(warp32.Accelerator, IlgpuKernelOptions.All) { TensorCoreMinRows = 16 };
        var off = new MatMulKernels(warp32.Accelerator, new IlgpuKernelOptions(TensorCores: false)) { TensorCoreMinRows = 16 };
        var tensor = Run(on, x, Rows, w);
        var plain = Run(off, x, Rows, w);
        Assert.Equal((1, 0, 0), on.Launches);
        Assert.Equal((0, 0, 1), off.Launches);
        for (var r = 0; r < Rows; r++)
        {
            for (var j = 0; j < N; j++)
            {
                // Tensor cores see x and the weight rounded to f16 (2^-11 relative each); the plain kernel sees f32.
                double magnitude = 0;
                for (var i = 0; i < K; i++)
                {
                    magnitude += Math.Abs(x[(r * K) + i] * w.Values[(j * K) + i]);
                }

                var at = (r * N) + j;
                Assert.True(Math.Abs(tensor[at] - plain[at]) <= ((2.0 / 2048) + (2 * K * U)) * magnitude, $"[{r},{j}]: {tensor[at]} vs {plain[at]}");
            }
        }
    }

    [Fact]
    public void Int8_input_switch_sends_launches_to_the_f32_input_kernel()
    {
        const int K = 96, N = 7, Rows = 3;
        var random = new Random(25);
        using var w = new QuantizedWeight(GgmlType.Q4_0, K, N, random);
        var x = IlgpuKernelTests.RandomArray(random, Rows * K, 3f);
        var on = new MatMulKernels(warp32.Accelerator, IlgpuKernelOptions.All) { Int8Input = true };
        var off = new MatMulKernels(warp32.Accelerator, new IlgpuKernelOptions(Int8Input: false)) { Int8Input = true };
        var int8 = Run(on, x, Rows, w);
        var plain = Run(off, x, Rows, w);
        Assert.Equal((0, 1, 0), on.Launches);
        Assert.Equal((0, 0, 1), off.Launches);
        for (var r = 0; r < Rows; r++)
        {
            var xMax = 0f;
            for (var i = 0; i < K; i++)
            {
                xMax = Math.Max(xMax, Math.Abs(x[(r * K) + i]));
            }

            for (var j = 0; j < N; j++)
            {
                // Each input is moved by at most half an int8 step (max|x| / 254) by the quantization.
                double weights = 0;
                for (var i = 0; i < K; i++)
                {
                    weights += Math.Abs(w.Values[(j * K) + i]);
                }

                var at = (r * N) + j;
                Assert.True(Math.Abs(int8[at] - plain[at]) <= (weights * xMax / 127) + 1e-5, $"[{r},{j}]: {int8[at]} vs {plain[at]}");
            }
        }
    }

    [Theory]
    [InlineData(KvCacheDataType.Auto)] // f16 on the device
    [InlineData(KvCacheDataType.Fp8)]  // both kernels read e4m3 bytes through KvCacheView
    public void Flash_attention_switch_changes_the_prefill_kernel_not_the_logits(KvCacheDataType kv)
    {
        // stories260K (8 heads, 4 KV heads, head_dim 8) on the ilgpu-cpu device; a 24-token prompt is prefill-sized.
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        int[] prompt = [1, 403, 407, 261, 378, 260, 261, 262, 17, 250, 283, 42, 300, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310, 311];
        var (flash, flashLaunches, layers) = LastLogits(path, prompt, IlgpuKernelOptions.All, kv);
        var (plain, plainLaunches, _) = LastLogits(path, prompt, new IlgpuKernelOptions(TensorCores: false, Int8Input: false, FlashAttention: false), kv);
        Assert.Equal(layers, flashLaunches);
        Assert.Equal(0, plainLaunches);
        // Both against the f32 reference within the f16 KV cache's rounding (as IlgpuModelTests), and against each
        // other: the kernels differ only in f32 summation order (FlashAttentionTests bounds that per output), but
        // the warp kernel is not bit-reproducible on the CPU accelerator (its simulated warp all-reduce sums in
        // thread arrival order: 2.3e-5 relative between two identical runs), so the cross check allows 1e-3.
        // A wrong mask or head mapping moves these logits by far more (FlashAttentionTests shows O(0.1) per output).
        var reference = ReferenceLogits(path, prompt, kv == KvCacheDataType.Fp8 ? kv : KvCacheDataType.Auto);
        Assert.True(ModelRunner.RelativeError(flash, reference) < 3e-3, $"flash vs reference {ModelRunner.RelativeError(flash, reference):E3}");
        Assert.True(ModelRunner.RelativeError(plain, reference) < 3e-3, $"warp kernel vs reference {ModelRunner.RelativeError(plain, reference):E3}");
        var error = ModelRunner.RelativeError(flash, plain);
        Assert.True(error < 1e-3, $"relative logit difference flash vs warp kernel {error:E3}");
        Assert.Equal(Array.IndexOf(plain, plain.Max()), Array.IndexOf(flash, flash.Max()));
    }

    private static float[] ReferenceLogits(string path, int[] prompt, KvCacheDataType kv)
    {
        using var model = LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.Reference, KvBlockCount = 4, KvCacheDataType = kv });
        return ModelRunner.LastLogits(model, prompt);
    }

    private static (float[] Logits, int FlashLaunches, int Layers) LastLogits(string path, int[] prompt, IlgpuKernelOptions options, KvCacheDataType kv)
    {
        var device = IlgpuDevice.OpenCpu(options: options);
        using var model = LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.IlgpuCpu, KvBlockCount = 4, OpenDevice = () => device, KvCacheDataType = kv });
        var logits = ModelRunner.LastLogits(model, prompt);
        return (logits, device.FlashAttention.Launches, model.HyperParameters.LayerCount);
    }

    private float[] Run(MatMulKernels kernels, float[] x, int rows, QuantizedWeight w)
    {
        var accelerator = warp32.Accelerator;
        using var input = accelerator.Allocate1D(x);
        var padded = new byte[MatMulKernels.PaddedBytes(w.Bytes.Length)];
        w.Bytes.CopyTo(padded, 0);
        using var weight = accelerator.Allocate1D(padded);
        using var output = accelerator.Allocate1D<float>(rows * w.Matrix.Rows);
        kernels.MatMul(input.View, rows, weight.View, new MatMulKernels.MatMulShape((int)w.Matrix.Type, w.Matrix.Columns, w.Matrix.Rows, w.Matrix.RowBytes), output.View);
        return output.GetAsArray1D();
    }
}
