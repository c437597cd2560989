using ILGPU;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// The int8 input of the warp-per-row kernel: before a Q8_0, Q4_0 or Q4_K launch the input is quantized once (blocks of
/// 32, one f32 scale each; one quantization serves all weights of the launch — Q, K and V, or gate and up) into a
/// buffer this class keeps and grows, and <see cref="MatMulInt8Kernel"/> reads it through <see cref="WeightDotInt8"/>.
/// </summary>
internal sealed partial class MatMulKernels
{
    private Action<KernelConfig, ArrayView<float>, int, ArrayView<uint>, ArrayView<float>>? _quantize;
    private MemoryBuffer1D<uint, Stride1D.Dense>? _quants;
    private MemoryBuffer1D<float, Stride1D.Dense>? _scales;

    /// <summary>The input as int8 blocks for <see cref="MatMulInt8Kernel"/>. // quants (rows, k / 4) words; scales (rows, k / 32)</summary>
    internal readonly record struct InputQuants(ArrayView<uint> Quants, ArrayView<float> Scales);

    /// <summary>
    /// Whether Q8_0, Q4_0 and Q4_K launches of the warp-per-row kernel quantize the input to int8 and use dp4a
    /// (as the CPU backend quantizes its activations for these types). On by default on CUDA; off on the CPU
    /// accelerator, where the tests turn it on, so that the f32-input kernel stays checked there too. With
    /// <see cref="IlgpuKernelOptions.Int8Input"/> off no launch uses it, whatever this is.
    /// </summary>
    public bool Int8Input { get; set; }

    private InputQuants QuantizeInput(ArrayView<float> input, int rows, int k)
    {
        var blocks = (long)rows * (k / 32);
        if (_quants is null || _quants.Length < blocks * 8)
        {
            _quants?.Dispose();
            _scales?.Dispose();
            _quants = _accelerator.Allocate1D<uint>(blocks * 8);
            _scales = _accelerator.Allocate1D<float>(blocks);
        }

        _quantize ??= _accelerator.LoadStreamKernel<ArrayView<float>, int, ArrayView<uint>, ArrayView<float>>(QuantizeInputKernel);
        var groupSize = Math.Min(128, _accelerator.MaxNumThreadsPerGroup);
        _quantize(new KernelConfig((int)((blocks + groupSize - 1) / groupSize), groupSize), input, (int)blocks, _quants.View, _scales!.View);
        return new InputQuants(_quants.View, _scales.View);
    }

    /// <summary>Grid: ceil(blocks / group); one thread per 32-element block of the input (rows, k), k a multiple of 32.</summary>
    internal static void QuantizeInputKernel(ArrayView<float> input, int blocks, ArrayView<uint> quants, ArrayView<float> scales)
    {
        var block = (Grid.IdxX * Group.DimX) + Group.IdxX;
        if (block < blocks)
        {
            WeightDotInt8.QuantizeBlock(input, block, quants, scales);
        }
    }
}
