using ILGPU;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// GPTQ <c>desc_act</c> on the device: a matrix whose stored column i is input <c>order[i]</c> (its groups contiguous
/// only in <c>g_idx</c> order, see <see cref="WeightMatrix.ColumnOrder"/>) meets its activations gathered into that
/// order first, so the matmul kernels run it as any in-order matrix.
/// </summary>
internal sealed class ColumnOrderKernels
{
    private readonly int _groupSize;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, int, int, ArrayView<float>> _gather;

    public ColumnOrderKernels(Accelerator accelerator)
    {
        _groupSize = Math.Min(256, accelerator.MaxNumThreadsPerGroup);
        _gather = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, int, int, ArrayView<float>>(GatherColumnsKernel);
    }

    /// <summary>output[t, i] = input[t, order[i]]. // input, output (rows, columns); order (columns)</summary>
    internal static void GatherColumnsKernel(ArrayView<float> input, ArrayView<int> order, int columns, int count, ArrayView<float> output)
    {
        var i = Grid.GlobalIndex.X;
        if (i < count)
        {
            var row = i / columns;
            output[i] = input[((long)row * columns) + order[i - (row * columns)]];
        }
    }

    /// <summary>Gathers <paramref name="rows"/> rows of <paramref name="columns"/> activations into <paramref name="order"/>.</summary>
    public void Gather(ArrayView<float> input, ArrayView<int> order, int rows, int columns, ArrayView<float> output)
    {
        var count = rows * columns;
        _gather(new KernelConfig(Math.Max(1, (count + _groupSize - 1) / _groupSize), _groupSize), input, order, columns, count, output);
    }
}
