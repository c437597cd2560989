using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Fragment = Fathom.Engine.Backends.Ilgpu.TensorCoreMma.Fragment;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// The tensor-core path of <see cref="MatMulKernels"/>, for prefill and decode batches of at least
/// <see cref="TensorCoreMinRows"/> input rows: a group of 4 warps computes a tile of <see cref="TileRows"/> input rows
/// × <see cref="TileColumns"/> weight rows, stepping through k in slices of 32. Each slice of the input is rounded to
/// f16 (bf16 for BF16 weights) and the weight rows are dequantized from their stored layout, both into shared memory
/// as 16-bit pairs; every warp then runs <c>mma.sync</c> m16n8k16 (<see cref="TensorCoreMma"/>) over its 8 weight
/// rows and the tile's four 16-row strips, accumulating in f32. The epilogues are those of the warp-per-row kernel.
/// </summary>
internal sealed partial class MatMulKernels
{
    /// <summary>Input rows (tokens) per group tile: four m16 strips.</summary>
    internal const int TileRows = 64;

    /// <summary>Weight rows (output columns) per group tile: 8 per warp (one n8 tile each).</summary>
    internal const int TileColumns = 32;

    private const int TileK = 32;
    private const int TileWords = TileK / 2;

    // Shared rows are padded by 4 words so the 8 × 4 lanes reading a fragment (row g, word t) hit 32 distinct banks.
    private const int TileStride = TileWords + 4;
    private const int TensorCoreWarps = TileColumns / 8;

    private Action<KernelConfig, ArrayView<float>, int, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, MatMulShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>? _tiled;

    /// <summary>
    /// Smallest number of input rows sent to the tensor-core kernel (fewer go to the warp-per-row kernel, which reads
    /// each weight once for up to four rows). Defaults to 16 on CUDA devices of compute capability 8.0 or newer (where
    /// <c>mma.sync</c> m16n8k16 with f16 and bf16 exists) and to off (<see cref="int.MaxValue"/>) elsewhere: the CPU
    /// accelerator's emulation is for tests, which set it. Needs a 32-lane warp. With
    /// <see cref="IlgpuKernelOptions.TensorCores"/> off no launch uses tensor cores, whatever this is.
    /// </summary>
    /// <exception cref="InvalidOperationException">Set on a device whose warp is not 32 lanes.</exception>
    public int TensorCoreMinRows
    {
        get;
        set
        {
            if (value != int.MaxValue && _warpSize != 32)
            {
                throw new InvalidOperationException($"the tensor-core matmul needs a 32-lane warp; this device's warp has {_warpSize}");
            }

            field = Math.Max(1, value);
        }
    }

    private static int DefaultTensorCoreMinRows(Accelerator accelerator) =>
        accelerator is CudaAccelerator cuda && cuda.Architecture is { } architecture && architecture >= CudaArchitecture.SM_80 && accelerator.WarpSize == 32
            ? 16
            : int.MaxValue;

    /// <summary>Whether a launch of <paramref name="rows"/> input rows with this shape goes through tensor cores.</summary>
    public bool UsesTensorCores(int rows, MatMulShape shape) =>
        _options.TensorCores && rows >= TensorCoreMinRows && shape.Type != WeightDecode.F32 && shape.K % 2 == 0;

    private void LaunchTiled(ArrayView<float> input, int rows, ArrayView<uint> a, ArrayView<uint> b, ArrayView<uint> c, MatMulShape shape, ArrayView<float> outA, ArrayView<float> outB, ArrayView<float> outC)
    {
        _tiled ??= _accelerator.LoadStreamKernel<ArrayView<float>, int, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, MatMulShape, ArrayView<float>, ArrayView<float>, ArrayView<float>>(TiledMatMulKernel);
        var tiles = Tiles(shape.N) + Tiles(shape.N2) + Tiles(shape.N3);
        var strips = (rows + TileRows - 1) / TileRows;
        _tiled(new KernelConfig(new Index2D(tiles, strips), new Index2D(TensorCoreWarps * 32, 1)), input, rows, a, b, c, shape, outA, outB, outC);
    }

    private static int Tiles(int n) => (n + TileColumns - 1) / TileColumns;

    /// <summary>
    /// Grid: (column tiles of n, n2, n3 in turn; ceil(rows / 64)); group: 4 warps of 32 lanes. Parameters as
    /// <see cref="MatMulKernel"/>.
    /// </summary>
    internal static void TiledMatMulKernel(ArrayView<float> input, int rows, ArrayView<uint> weight, ArrayView<uint> second, ArrayView<uint> third, MatMulShape shape, ArrayView<float> output, ArrayView<float> output2, ArrayView<float> output3)
    {
        // A group's columns lie in one segment (tiles never straddle the Q | K | V boundary).
        var tilesA = Tiles(shape.N);
        var tilesB = Tiles(shape.N2);
        var tile = Grid.IdxX;
        var segment = tile < tilesA ? 0 : tile < tilesA + tilesB ? 1 : 2;
        var n0 = (segment == 0 ? tile : segment == 1 ? tile - tilesA : tile - tilesA - tilesB) * TileColumns;
        var n = segment == 0 ? shape.N : segment == 1 ? shape.N2 : shape.N3;
        var w = segment == 0 ? weight : segment == 1 ? second : third;
        var target = segment == 0 ? output : segment == 1 ? output2 : output3;
        var swiGlu = shape.Epilogue == SwiGlu;
        var bf16 = shape.Type == WeightDecode.BF16;
        var m0 = Grid.IdxY * TileRows;
        var k = shape.K;

        var xs = SharedMemory.Allocate<uint>(TileRows * TileStride);
        var ws = SharedMemory.Allocate<uint>(TileColumns * TileStride);
        var us = SharedMemory.Allocate<uint>(TileColumns * TileStride);

        var lane = Warp.LaneIdx;
        var g = lane >> 2;
        var t = lane & 3;
        var bRow = ((Warp.WarpIdx * 8) + g) * TileStride;
        var strips = XMath.Min(4, (rows - m0 + 15) >> 4); // uniform: strips past the last row are skipped
        Fragment f0 = default, f1 = default, f2 = default, f3 = default;
        Fragment u0 = default, u1 = default, u2 = default, u3 = default;
        for (var k0 = 0; k0 < k; k0 += TileK)
        {
            Group.Barrier();
            for (var i = Group.IdxX; i < TileRows * TileWords; i += Group.DimX)
            {
                var token = m0 + (i >> 4);
                var e = k0 + (2 * (i & 15));
                var lo = 0f;
                var hi = 0f;
                if (token < rows && e < k)
                {
                    var at = ((long)token * k) + e;
                    lo = input[at];
                    hi = e + 1 < k ? input[at + 1] : 0f;
                }

                xs[((i >> 4) * TileStride) + (i & 15)] = TensorCoreMma.Pack(lo, hi, bf16);
            }

            for (var i = Group.IdxX; i < TileColumns * TileWords; i += Group.DimX)
            {
                var column = n0 + (i >> 4);
                var e = k0 + (2 * (i & 15));
                var inside = column < n && e < k;
                var slot = ((i >> 4) * TileStride) + (i & 15);
                ws[slot] = inside ? WeightPair(w, shape.Type, column * shape.RowBytes, e, k, bf16) : 0u;
                if (swiGlu)
                {
                    us[slot] = inside ? WeightPair(second, shape.Type, column * shape.RowBytes, e, k, bf16) : 0u;
                }
            }

            Group.Barrier();
            for (var word = 0; word < TileWords; word += 8)
            {
                var b0 = ws[bRow + word + t];
                var b1 = ws[bRow + word + t + 4];
                f0 = Step(f0, xs, 0, word, g, t, b0, b1, bf16);
                f1 = strips > 1 ? Step(f1, xs, 16, word, g, t, b0, b1, bf16) : f1;
                f2 = strips > 2 ? Step(f2, xs, 32, word, g, t, b0, b1, bf16) : f2;
                f3 = strips > 3 ? Step(f3, xs, 48, word, g, t, b0, b1, bf16) : f3;
                if (swiGlu)
                {
                    var c0 = us[bRow + word + t];
                    var c1 = us[bRow + word + t + 4];
                    u0 = Step(u0, xs, 0, word, g, t, c0, c1, bf16);
                    u1 = strips > 1 ? Step(u1, xs, 16, word, g, t, c0, c1, bf16) : u1;
                    u2 = strips > 2 ? Step(u2, xs, 32, word, g, t, c0, c1, bf16) : u2;
                    u3 = strips > 3 ? Step(u3, xs, 48, word, g, t, c0, c1, bf16) : u3;
                }
            }
        }

        var column0 = n0 + (Warp.WarpIdx * 8) + (2 * t);
        var row = m0 + g;
        Write(target, f0, u0, shape.Epilogue, rows, n, row, column0);
        Write(target, f1, u1, shape.Epilogue, rows, n, row + 16, column0);
        Write(target, f2, u2, shape.Epilogue, rows, n, row + 32, column0);
        Write(target, f3, u3, shape.Epilogue, rows, n, row + 48, column0);
    }

    /// <summary>One m16n8k16 product of strip rows <paramref name="strip"/> .. +15 of the input tile with the warp's B fragment.</summary>
    private static Fragment Step(Fragment acc, ArrayView<uint> xs, int strip, int word, int g, int t, uint b0, uint b1, bool bf16)
    {
        var rowG = ((strip + g) * TileStride) + word + t;
        var rowG8 = rowG + (8 * TileStride);
        return TensorCoreMma.Mma(acc, xs[rowG], xs[rowG8], xs[rowG + 4], xs[rowG8 + 4], b0, b1, bf16);
    }

    /// <summary>
    /// Weights <paramref name="e"/> and e + 1 of the row at byte <paramref name="rowByte"/>, as a 16-bit pair: F16 (for
    /// f16) and BF16 (for bf16) words as stored; Q8_0 from one 16-bit read of two quants; other types through
    /// <see cref="WeightDecode.Element"/> — each value decoded exactly as the host does, then rounded.
    /// </summary>
    private static uint WeightPair(ArrayView<uint> words, int type, long rowByte, int e, int k, bool bf16)
    {
        if (type is WeightDecode.F16 or WeightDecode.BF16)
        {
            return words[(rowByte >> 2) + (e >> 1)];
        }

        if (type == WeightDecode.Q8_0)
        {
            var block = rowByte + (34L * (e >> 5));
            var d = WeightDecode.HalfToSingleCvt(WeightDot.Half16(words, block));
            var quants = WeightDot.Half16(words, block + 2 + (e & 31));
            return TensorCoreMma.Pack((sbyte)(quants & 0xFF) * d, (sbyte)(quants >> 8) * d, bf16);
        }

        var bytes = words.Cast<byte>();
        var lo = WeightDecode.Element(bytes, type, rowByte, e);
        var hi = e + 1 < k ? WeightDecode.Element(bytes, type, rowByte, e + 1) : 0f;
        return TensorCoreMma.Pack(lo, hi, bf16);
    }

    /// <summary>The epilogue for one lane's fragment: (row, column0 / +1) and (row + 8, column0 / +1), inside rows × n.</summary>
    private static void Write(ArrayView<float> target, Fragment f, Fragment u, int epilogue, int rows, int n, int row, int column0)
    {
        Write(target, f.C0, u.C0, epilogue, rows, n, row, column0);
        Write(target, f.C1, u.C1, epilogue, rows, n, row, column0 + 1);
        Write(target, f.C2, u.C2, epilogue, rows, n, row + 8, column0);
        Write(target, f.C3, u.C3, epilogue, rows, n, row + 8, column0 + 1);
    }

    private static void Write(ArrayView<float> target, float dot, float up, int epilogue, int rows, int n, int row, int column)
    {
        if (row >= rows || column >= n)
        {
            return;
        }

        var o = ((long)row * n) + column;
        target[o] = epilogue == Accumulate ? target[o] + dot : epilogue == SwiGlu ? Silu(dot) * up : dot;
    }
}
