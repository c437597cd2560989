using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// <c>output (rows, n) = input (rows, k) · Wᵀ</c> with W in its GGUF layout (F32, F16, BF16, Q8_0, Q4_0, Q4_K,
/// Q6_K). One warp per output column (weight row), several warps (columns) per group; the lanes read the row as
/// aligned 32-bit words, neighbouring lanes neighbouring words (<see cref="WeightDot"/>), and each decoded
/// weight is used for up to four input rows before the next is loaded (decode, rows = 1, does one product per
/// weight). Partial sums are f32 per lane, combined with a warp reduction. The epilogue is fused: plain store,
/// accumulate into the output (the residual add), or — given a second weight — SwiGLU of the two dots
/// (<c>silu(input · Gᵀ) ⊙ (input · Uᵀ)</c>, the FFN's gate and up projections in one launch). Launches of at least
/// <see cref="TensorCoreMinRows"/> input rows go to the tensor-core kernel instead (MatMulKernels.TensorCore.cs).
/// </summary>
internal sealed partial class MatMulKernels
{
    /// <summary>Epilogue: output = dot.</summary>
    public const int Store = 0;

    /// <summary>Epilogue: output += dot (residual add fused into the projection).</summary>
    public const int Accumulate = 1;

    /// <summary>Epilogue: output = silu(dot with weight) · dot with the second weight.</summary>
    public const int SwiGlu = 2;

    private const int WarpsPerGroup = 4;

    private readonly Action<KernelConfig, ArrayView<float>, int, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, MatMulShape, ArrayView<float>, ArrayView<float>, ArrayView<float>> _matMul;
    private readonly Action<KernelConfig, ArrayView<float>, int, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, MatMulShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, InputQuants> _matMulInt8;
    private readonly int _warpSize;
    private readonly Accelerator _accelerator;
    private readonly IlgpuKernelOptions _options;

    /// <summary>Loads the kernels; <paramref name="options"/> (default: <see cref="IlgpuKernelOptions.Current"/>) can turn the tensor-core and int8-input paths off.</summary>
    public MatMulKernels(Accelerator accelerator, IlgpuKernelOptions? options = null)
    {
        _accelerator = accelerator;
        _options = options ?? IlgpuKernelOptions.Current;
        _warpSize = accelerator.WarpSize;
        TensorCoreMinRows = _options.TensorCores ? DefaultTensorCoreMinRows(accelerator) : int.MaxValue;
        _matMul = accelerator.LoadStreamKernel<ArrayView<float>, int, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, MatMulShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>(MatMulKernel);
        _matMulInt8 = accelerator.LoadStreamKernel<ArrayView<float>, int, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, MatMulShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, InputQuants>(MatMulInt8Kernel);
        Int8Input = _options.Int8Input && accelerator.AcceleratorType == AcceleratorType.Cuda;
    }

    /// <summary>Launches so far per path (tensor-core, int8-input, f32 warp-per-row), so tests can see which kernel a switch chose.</summary>
    internal (int TensorCore, int Int8Input, int WarpPerRow) Launches { get; private set; }

    /// <summary>
    /// Weight type (<see cref="WeightDecode"/> constants), k = input width, n = weight rows, row stride in bytes,
    /// epilogue; <see cref="N2"/>, <see cref="N3"/> &gt; 0 append the rows of a second and third weight of the same
    /// type and k, written to their own outputs (Q, K and V projections in one launch).
    /// </summary>
    internal readonly record struct MatMulShape(int Type, int K, int N, long RowBytes, int Epilogue = Store, int N2 = 0, int N3 = 0);

    // ---- kernels ----

    /// <summary>
    /// Grid: (ceil((n + n2 + n3) / warps per group)); group: warps per group × warp size. // input (rows, k);
    /// weight, second, third (n | n2 | n3, row_bytes) as words; output (rows, n), output2 (rows, n2), output3 (rows, n3)
    /// </summary>
    internal static void MatMulKernel(ArrayView<float> input, int rows, ArrayView<uint> weight, ArrayView<uint> second, ArrayView<uint> third, MatMulShape shape, ArrayView<float> output, ArrayView<float> output2, ArrayView<float> output3) =>
        MatMulBody(input, rows, weight, second, third, shape, output, output2, output3, false, default);

    /// <summary>
    /// <see cref="MatMulKernel"/> reading the input as int8 blocks (<see cref="WeightDotInt8"/>; Q8_0, Q4_0, Q4_K): a
    /// separate entry point so that neither kernel carries the other's registers.
    /// </summary>
    internal static void MatMulInt8Kernel(ArrayView<float> input, int rows, ArrayView<uint> weight, ArrayView<uint> second, ArrayView<uint> third, MatMulShape shape, ArrayView<float> output, ArrayView<float> output2, ArrayView<float> output3, InputQuants quants) =>
        MatMulBody(input, rows, weight, second, third, shape, output, output2, output3, true, quants);

    private static void MatMulBody(ArrayView<float> input, int rows, ArrayView<uint> weight, ArrayView<uint> second, ArrayView<uint> third, MatMulShape shape, ArrayView<float> output, ArrayView<float> output2, ArrayView<float> output3, bool int8, InputQuants quants)
    {
        var global = (Grid.IdxX * (Group.DimX / Warp.WarpSize)) + Warp.WarpIdx;
        if (global >= shape.N + shape.N2 + shape.N3)
        {
            return;
        }

        // Segment of the concatenated rows: uniform per warp, so the selects cost no divergence.
        var segment = global < shape.N ? 0 : global < shape.N + shape.N2 ? 1 : 2;
        var column = segment == 0 ? global : segment == 1 ? global - shape.N : global - shape.N - shape.N2;
        var n = segment == 0 ? shape.N : segment == 1 ? shape.N2 : shape.N3;
        var w = segment == 0 ? weight : segment == 1 ? second : third;
        var target = segment == 0 ? output : segment == 1 ? output2 : output3;
        var k = shape.K;
        var row = column * shape.RowBytes;
        for (var r0 = 0; r0 < rows; r0 += 4)
        {
            var x0 = (long)r0 * k;
            var take = XMath.Min(4, rows - r0);
            var a = Reduce(Dot(w, shape.Type, row, input, x0, k, take, int8, quants, r0), take);
            if (shape.Epilogue == SwiGlu)
            {
                var b = Reduce(Dot(second, shape.Type, row, input, x0, k, take, int8, quants, r0), take);
                a.A0 = Silu(a.A0) * b.A0;
                a.A1 = Silu(a.A1) * b.A1;
                a.A2 = Silu(a.A2) * b.A2;
                a.A3 = Silu(a.A3) * b.A3;
            }

            if (Warp.IsFirstLane)
            {
                var o = ((long)r0 * n) + column;
                var add = shape.Epilogue == Accumulate;
                target[o] = add ? target[o] + a.A0 : a.A0;
                if (take > 1)
                {
                    target[o + n] = add ? target[o + n] + a.A1 : a.A1;
                }

                if (take > 2)
                {
                    target[o + (2L * n)] = add ? target[o + (2L * n)] + a.A2 : a.A2;
                }

                if (take > 3)
                {
                    target[o + (3L * n)] = add ? target[o + (3L * n)] + a.A3 : a.A3;
                }
            }
        }
    }

    /// <summary>This lane's partials: from the int8 input (<see cref="WeightDotInt8"/>; <paramref name="int8"/> is a constant per entry point) or the f32 input.</summary>
    private static Acc4 Dot(ArrayView<uint> w, int type, long row, ArrayView<float> input, long x0, int k, int take, bool int8, InputQuants quants, int r0) =>
        int8
            ? WeightDotInt8.Lane(w, type, row, quants.Quants, quants.Scales, r0, k, take, Warp.LaneIdx, Warp.WarpSize)
            : WeightDot.Lane(w, type, row, input, x0, k, take, Warp.LaneIdx, Warp.WarpSize);

    /// <summary>Warp sums of the first <paramref name="take"/> partials (take is uniform, so every lane joins the same reductions).</summary>
    private static Acc4 Reduce(Acc4 a, int take)
    {
        a.A0 = WarpExtensions.Reduce<float, AddFloat>(a.A0);
        if (take > 1)
        {
            a.A1 = WarpExtensions.Reduce<float, AddFloat>(a.A1);
        }

        if (take > 2)
        {
            a.A2 = WarpExtensions.Reduce<float, AddFloat>(a.A2);
        }

        if (take > 3)
        {
            a.A3 = WarpExtensions.Reduce<float, AddFloat>(a.A3);
        }

        return a;
    }

    /// <summary>g · sigmoid(g), in the same operation order as <see cref="ElementwiseKernels.SwiGluKernel"/>.</summary>
    private static float Silu(float g) => g / (1f + XMath.Exp(-g));

    // ---- launchers ----

    /// <summary>Runs <c>output = epilogue(input · Wᵀ)</c>; <paramref name="second"/> is the up weight for <see cref="SwiGlu"/>.</summary>
    /// <exception cref="ArgumentException">A weight view is not padded to whole 32-bit words, or k does not fill whole units.</exception>
    public void MatMul(ArrayView<float> input, int rows, ArrayView<byte> weight, MatMulShape shape, ArrayView<float> output, ArrayView<byte> second = default)
    {
        Check(weight, shape);
        if (shape.Epilogue == SwiGlu)
        {
            Check(second, shape);
        }

        var words = weight.Cast<uint>();
        var secondWords = shape.Epilogue == SwiGlu ? second.Cast<uint>() : words;
        Launch(input, rows, words, secondWords, words, shape with { N2 = 0, N3 = 0 }, output, output, output);
    }

    /// <summary>
    /// Three projections of one input in one launch (<c>out_i = input · W_iᵀ</c>, stored), for weights of one type
    /// and k: the Q, K and V projections.
    /// </summary>
    public void MatMul3(ArrayView<float> input, int rows, MatMulShape shape, (ArrayView<byte> Weight, int N, ArrayView<float> Output) first, (ArrayView<byte> Weight, int N, ArrayView<float> Output) second, (ArrayView<byte> Weight, int N, ArrayView<float> Output) third)
    {
        var s = shape with { N = first.N, N2 = second.N, N3 = third.N, Epilogue = Store };
        Check(first.Weight, s);
        Check(second.Weight, s with { N = second.N });
        Check(third.Weight, s with { N = third.N });
        Launch(input, rows, first.Weight.Cast<uint>(), second.Weight.Cast<uint>(), third.Weight.Cast<uint>(), s, first.Output, second.Output, third.Output);
    }

    private void Launch(ArrayView<float> input, int rows, ArrayView<uint> a, ArrayView<uint> b, ArrayView<uint> c, MatMulShape shape, ArrayView<float> outA, ArrayView<float> outB, ArrayView<float> outC)
    {
        if (UsesTensorCores(rows, shape))
        {
            Launches = Launches with { TensorCore = Launches.TensorCore + 1 };
            LaunchTiled(input, rows, a, b, c, shape, outA, outB, outC);
            return;
        }

        var columns = shape.N + shape.N2 + shape.N3;
        var config = new KernelConfig((columns + WarpsPerGroup - 1) / WarpsPerGroup, WarpsPerGroup * _warpSize);
        if (_options.Int8Input && Int8Input && WeightDotInt8.Supports(shape.Type))
        {
            Launches = Launches with { Int8Input = Launches.Int8Input + 1 };
            _matMulInt8(config, input, rows, a, b, c, shape, outA, outB, outC, QuantizeInput(input, rows, shape.K));
            return;
        }

        Launches = Launches with { WarpPerRow = Launches.WarpPerRow + 1 };
        _matMul(config, input, rows, a, b, c, shape, outA, outB, outC);
    }

    /// <summary>Bytes to allocate for a weight of <paramref name="bytes"/> so the kernels may read it as whole words.</summary>
    public static long PaddedBytes(long bytes) => (bytes + 3) & ~3L;

    private static void Check(ArrayView<byte> weight, MatMulShape shape)
    {
        if (weight.Length % 4 != 0 || weight.Length < shape.RowBytes * shape.N)
        {
            throw new ArgumentException($"weight view of {weight.Length} bytes: needs {shape.RowBytes * shape.N} bytes padded to a multiple of 4", nameof(weight));
        }

        // F16/BF16 rows are read as 2-element words and need 4-aligned rows; the block types are whole by construction.
        if (shape.K % WeightDot.ElementsPerUnit(shape.Type) != 0 || (shape.Type is WeightDecode.F16 or WeightDecode.BF16 or WeightDecode.Fp8Rows && shape.RowBytes % 4 != 0))
        {
            throw new ArgumentException($"k = {shape.K} is not a whole number of {WeightDot.ElementsPerUnit(shape.Type)}-element units of weight type {shape.Type}", nameof(shape));
        }
    }
}
