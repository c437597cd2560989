using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// Embedding, RMSNorm, RoPE, SwiGLU, adds, row gathers and greedy argmax. Every kernel is explicitly grouped (one
/// PTX entry point each); flat kernels take one element per thread, row kernels one group per row.
/// </summary>
internal sealed class ElementwiseKernels
{
    /// <summary>Threads per group of the argmax kernel's shared scratch (the largest group it is launched with).</summary>
    public const int MaxGroupSize = 1024;

    private readonly Accelerator _accelerator;
    private readonly int _groupSize;
    private readonly Action<KernelConfig, ArrayView<byte>, int, long, ArrayView<int>, int, int, ArrayView<float>> _embed;
    private readonly Action<KernelConfig, ArrayView<float>, int, ArrayView<float>, float, ArrayView<float>> _rmsNorm;
    private readonly Action<KernelConfig, ArrayView<float>, RopeShape, ArrayView<int>, ArrayView<float>, ArrayView<float>> _rope;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, ArrayView<float>> _swiGlu;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int> _add;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int> _addBias;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, int, int, ArrayView<float>> _gatherRows;
    private readonly Action<KernelConfig, ArrayView<float>, int, ArrayView<int>> _argMax;

    public ElementwiseKernels(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _groupSize = Math.Min(256, accelerator.MaxNumThreadsPerGroup);
        _embed = accelerator.LoadStreamKernel<ArrayView<byte>, int, long, ArrayView<int>, int, int, ArrayView<float>>(EmbedKernel);
        _rmsNorm = accelerator.LoadStreamKernel<ArrayView<float>, int, ArrayView<float>, float, ArrayView<float>>(RmsNormKernel);
        _rope = accelerator.LoadStreamKernel<ArrayView<float>, RopeShape, ArrayView<int>, ArrayView<float>, ArrayView<float>>(RopeKernel);
        _swiGlu = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, ArrayView<float>>(SwiGluKernel);
        _add = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int>(AddKernel);
        _addBias = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int>(AddBiasKernel);
        _gatherRows = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, int, int, ArrayView<float>>(GatherRowsKernel);
        _argMax = accelerator.LoadStreamKernel<ArrayView<float>, int, ArrayView<int>>(ArgMaxKernel);
    }

    /// <summary>Shape of a RoPE launch: rows × heads heads of headDim, the first ropeDims rotated.</summary>
    internal readonly record struct RopeShape(int Rows, int Heads, int HeadDimension, int RopeDimensions, int NeoX);

    // ---- kernels ----

    /// <summary>output[t, i] = table[tokens[t], i]. Grid: (ceil(dim / group), n_tokens).</summary>
    internal static void EmbedKernel(ArrayView<byte> table, int type, long rowBytes, ArrayView<int> tokens, int count, int dim, ArrayView<float> output)
    {
        var i = Grid.GlobalIndex.X;
        var t = Grid.IdxY;
        if (i >= dim || t >= count)
        {
            return;
        }

        output[((long)t * dim) + i] = WeightDecode.Element(table, type, tokens[t] * rowBytes, i);
    }

    /// <summary>One group per row: y = x / rms(x) · w. // x, y (rows, dim)</summary>
    internal static void RmsNormKernel(ArrayView<float> x, int dim, ArrayView<float> weight, float eps, ArrayView<float> y)
    {
        var row = (long)Grid.IdxX * dim;
        float sum = 0;
        for (var i = Group.IdxX; i < dim; i += Group.DimX)
        {
            var v = x[row + i];
            sum += v * v;
        }

        sum = GroupExtensions.AllReduce<float, AddFloat>(sum);
        var scale = 1f / MathF.Sqrt((sum / dim) + eps);
        for (var i = Group.IdxX; i < dim; i += Group.DimX)
        {
            y[row + i] = x[row + i] * scale * weight[i];
        }
    }

    /// <summary>One thread per (row, head, pair); cos/sin come from a table of exact angles. // x (rows, heads, head_dim)</summary>
    internal static void RopeKernel(ArrayView<float> x, RopeShape shape, ArrayView<int> positions, ArrayView<float> cos, ArrayView<float> sin)
    {
        var half = shape.RopeDimensions / 2;
        var index = Grid.GlobalIndex.X;
        if (index >= shape.Rows * shape.Heads * half)
        {
            return;
        }

        var pair = index % half;
        var rowHead = index / half;
        var row = rowHead / shape.Heads;
        var head = (long)rowHead * shape.HeadDimension;
        var a = shape.NeoX != 0 ? head + pair : head + (2 * pair);
        var b = shape.NeoX != 0 ? head + pair + half : a + 1;
        var angle = ((long)positions[row] * half) + pair;
        float c = cos[angle], s = sin[angle];
        float x0 = x[a], x1 = x[b];
        x[a] = (x0 * c) - (x1 * s);
        x[b] = (x0 * s) + (x1 * c);
    }

    /// <summary>output = silu(gate) · up. // (count)</summary>
    internal static void SwiGluKernel(ArrayView<float> gate, ArrayView<float> up, int count, ArrayView<float> output)
    {
        var i = Grid.GlobalIndex.X;
        if (i < count)
        {
            var g = gate[i];
            output[i] = g / (1f + XMath.Exp(-g)) * up[i];
        }
    }

    /// <summary>x += y. // (count)</summary>
    internal static void AddKernel(ArrayView<float> x, ArrayView<float> y, int count)
    {
        var i = Grid.GlobalIndex.X;
        if (i < count)
        {
            x[i] += y[i];
        }
    }

    /// <summary>x[r, i] += bias[i]. // x (rows, width)</summary>
    internal static void AddBiasKernel(ArrayView<float> x, ArrayView<float> bias, int width, int count)
    {
        var i = Grid.GlobalIndex.X;
        if (i < count)
        {
            x[i] += bias[i % width];
        }
    }

    /// <summary>output[r] = input[indices[r]]. // input (n, width); output (m, width)</summary>
    internal static void GatherRowsKernel(ArrayView<float> input, ArrayView<int> indices, int width, int count, ArrayView<float> output)
    {
        var i = Grid.GlobalIndex.X;
        if (i < count)
        {
            var r = i / width;
            output[i] = input[((long)indices[r] * width) + (i % width)];
        }
    }

    /// <summary>One group per row: index of the largest value, the first on ties. // values (rows, width); result (rows)</summary>
    internal static void ArgMaxKernel(ArrayView<float> values, int width, ArrayView<int> result)
    {
        var bestValues = SharedMemory.Allocate<float>(MaxGroupSize);
        var bestIndices = SharedMemory.Allocate<int>(MaxGroupSize);
        var row = (long)Grid.IdxX * width;
        var best = -1;
        var bestValue = float.NegativeInfinity;
        for (var i = Group.IdxX; i < width; i += Group.DimX)
        {
            var v = values[row + i];
            if (best < 0 || v > bestValue)
            {
                best = i;
                bestValue = v;
            }
        }

        bestValues[Group.IdxX] = bestValue;
        bestIndices[Group.IdxX] = best;
        Group.Barrier();
        if (Group.IsFirstThread)
        {
            var winner = bestIndices[0];
            var winnerValue = bestValues[0];
            for (var t = 1; t < Group.DimX; t++)
            {
                var index = bestIndices[t];
                var v = bestValues[t];
                if (index >= 0 && (winner < 0 || v > winnerValue || (v == winnerValue && index < winner)))
                {
                    winner = index;
                    winnerValue = v;
                }
            }

            result[Grid.IdxX] = winner;
        }
    }

    // ---- launchers ----

    public void Embed(ArrayView<byte> table, int type, long rowBytes, ArrayView<int> tokens, int count, int dim, ArrayView<float> output) =>
        _embed(new KernelConfig(new Index2D(Blocks(dim), count), new Index2D(_groupSize, 1)), table, type, rowBytes, tokens, count, dim, output);

    public void RmsNorm(ArrayView<float> x, int rows, int dim, ArrayView<float> weight, float eps, ArrayView<float> y) =>
        _rmsNorm(new KernelConfig(rows, _groupSize), x, dim, weight, eps, y);

    public void Rope(ArrayView<float> x, RopeShape shape, ArrayView<int> positions, ArrayView<float> cos, ArrayView<float> sin) =>
        _rope(Flat(shape.Rows * shape.Heads * (shape.RopeDimensions / 2)), x, shape, positions, cos, sin);

    public void SwiGlu(ArrayView<float> gate, ArrayView<float> up, int count, ArrayView<float> output) => _swiGlu(Flat(count), gate, up, count, output);

    public void Add(ArrayView<float> x, ArrayView<float> y, int count) => _add(Flat(count), x, y, count);

    public void AddBias(ArrayView<float> x, ArrayView<float> bias, int rows) => _addBias(Flat(rows * (int)bias.Length), x, bias, (int)bias.Length, rows * (int)bias.Length);

    public void GatherRows(ArrayView<float> input, ArrayView<int> indices, int rows, int width, ArrayView<float> output) =>
        _gatherRows(Flat(rows * width), input, indices, width, rows * width, output);

    public void ArgMax(ArrayView<float> values, int rows, int width, ArrayView<int> result) =>
        _argMax(new KernelConfig(rows, Math.Min(_groupSize, MaxGroupSize)), values, width, result);

    private int Blocks(int count) => Math.Max(1, (count + _groupSize - 1) / _groupSize);

    private KernelConfig Flat(int count) => new(Blocks(count), _groupSize);

    /// <summary>The accelerator the kernels were loaded on.</summary>
    public Accelerator Accelerator => _accelerator;
}
