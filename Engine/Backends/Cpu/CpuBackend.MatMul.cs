using System.Runtime.CompilerServices;
using Fathom.Gguf;
using Fathom.Engine.Quantization;

namespace Fathom.Engine.Backends.Cpu;

/// <summary>
/// The matmul driver: a step's activations against every weight, cache-blocked. Work items are blocks of weight
/// rows (a quarter of L2 at most); each item runs its rows against the activations one tile at a time (a tile is
/// at most half of L2 in the format the kernel reads), so a weight block comes from memory once per step and is
/// re-read from L2 by later tiles, and a tile is re-read from L2 by every row of the block. Threads take row blocks,
/// so no two threads read the same weights. Kernels are picked in one place (<see cref="RunKernel"/>).
/// </summary>
internal sealed unsafe partial class CpuBackend
{
    /// <summary>L2 bytes of one core, which the tiles are sized to.</summary>
    private static readonly long L2Bytes = CpuTopology.L2CacheBytes();

    [ThreadStatic]
    private static float[]? t_panel;

    private float[] _f16Scaled = []; // (rows, k): activations × 2^112 for F16 decode, pinned
    private float[] _fp8Scaled = []; // (rows, k): activations × 2^64 for FP8 rows, pinned

    [ThreadStatic]
    private static float[]? t_decodedRow; // (k): one checkpoint row decoded to f32

    public void MatMul(float[] input, int rows, params ReadOnlySpan<MatMulTarget> targets)
    {
        var list = targets.ToArray();
        var k = list[0].Weight.Columns;
        foreach (var t in list)
        {
            if (t.Weight.Columns != k)
            {
                throw new ArgumentException("all weights of one matmul must share the input width");
            }
        }

        // Tiny matmuls (small models, or the last rows of a step) cost less than waking the workers.
        long work = 0;
        foreach (var t in list)
        {
            work += (long)rows * k * t.Weight.Rows;
        }

        var parallel = work >= SerialWorkLimit;
        var activations = QuantizeActivations(input, rows, k, list, parallel);
        var scaled = ScaleWidenedActivations(input, rows, k, list);
        var plan = MatMulPlan.Create(list, rows, _pool.ThreadCount, activations, L2Bytes);
        RunParallel(plan.ItemCount, parallel, item =>
        {
            var (target, first, last) = plan.Item(item);
            var tile = plan.TileRows[target];
            for (var t0 = 0; t0 < rows; t0 += tile)
            {
                RunKernel(list[target], input, activations, scaled, first, last, t0, Math.Min(tile, rows - t0));
            }
        });
    }

    /// <summary>
    /// Weight rows [first, last) of the target against activation rows [t0, t0 + count): the one call site of every
    /// matmul kernel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunKernel(MatMulTarget target, float[] input, QuantizedInput q, ScaledInput scaled, int first, int last, int t0, int count)
    {
        var (w, output) = target;
        var n = w.Rows;
        var k = w.Columns;
        if (w.Interleaved && InterleavedKQuantLayout.Supports(w.Type))
        {
            fixed (byte* a = q.Q8K)
            fixed (float* y = output)
            {
                InterleavedKQuantMatMul.Rows(
                    w.Type, w.Data, n, k, first, last,
                    a + ((long)t0 * q.Q8KRowBytes), q.Q8KRowBytes, count, y + ((long)t0 * n), n);
            }

            return;
        }

        if (w.Interleaved && w.Type == CheckpointTypes.Int4ZeroPoint)
        {
            Int4ZeroPointRows(w, q, first, last, t0, count, output);
            return;
        }

        if (w.Interleaved)
        {
            fixed (byte* a = q.Q8_0)
            fixed (int* info = q.Q8_0Info)
            fixed (float* y = output)
            {
                InterleavedMatMul.Rows(
                    w.Type, w.Data, n, k, first, last,
                    a + ((long)t0 * q.Q8_0RowBytes), q.Q8_0RowBytes, info + (2L * t0 * (k / Q8_0.BlockSize)), count,
                    y + ((long)t0 * n), n);
            }

            return;
        }

        if (IsQuantized(w.Type))
        {
            var rowCount = last - first;
            var weights = new ReadOnlySpan<byte>(w.Row(first), checked((int)(rowCount * w.RowBytes)));
            var (activations, rowBytes) = ActivationQuantizer.PairedFormat(w.Type) == GgmlType.Q8_0
                ? (q.Q8_0, q.Q8_0RowBytes)
                : (q.Q8K, q.Q8KRowBytes);
            var a = new ReadOnlySpan<byte>(activations, t0 * rowBytes, count * rowBytes);
            var y = output.AsSpan((t0 * n) + first);
            switch (w.Type)
            {
                case GgmlType.Q8_0: QuantMatMul.Q8_0(weights, rowCount, k, a, count, y, n); break;
                case GgmlType.Q4_0: QuantMatMul.Q4_0(weights, rowCount, k, a, count, y, n); break;
                case GgmlType.Q4_K: QuantMatMul.Q4K(weights, rowCount, k, a, count, y, n); break;
                default: QuantMatMul.Q6K(weights, rowCount, k, a, count, y, n); break;
            }

            return;
        }

        // FP8 rows have a widened kernel (below); the 4-bit and g_idx layouts decode a row at a time.
        if ((CheckpointTypes.Contains(w.Type) && w.Type != CheckpointTypes.Fp8Rows) || w.ColumnOrder is not null)
        {
            DecodedRows(w, input, first, last, t0, count, output);
            return;
        }

        var panelLength = WidenedMatMul.BlockRows * k;
        var panel = t_panel is { } p && p.Length >= panelLength ? p : t_panel = GC.AllocateUninitializedArray<float>(panelLength, pinned: true);
        fixed (float* x = input)
        fixed (float* y = output)
        fixed (float* scratch = panel)
        fixed (float* s = scaled.For(w.Type))
        {
            WidenedMatMul.Rows(
                w.Type, w.Data, w.RowBytes, k, first, last, x + ((long)t0 * k), k, count, y + ((long)t0 * n), n, scratch,
                s is null ? null : s + ((long)t0 * k));
        }
    }

    /// <summary>
    /// The activations scaled once per matmul for the widened kernels that read them scaled
    /// (<see cref="WidenedMatMul.ScaleActivations"/>: F16 decode, FP8 rows), so that no row block scales its own copy.
    /// </summary>
    private ScaledInput ScaleWidenedActivations(float[] input, int rows, int k, MatMulTarget[] targets)
    {
        float[]? f16 = null, fp8 = null;
        foreach (var t in targets)
        {
            if (t.Weight.Type == GgmlType.F16 && f16 is null)
            {
                f16 = Scale(ref _f16Scaled, GgmlType.F16);
            }
            else if (t.Weight.Type == CheckpointTypes.Fp8Rows && fp8 is null)
            {
                fp8 = Scale(ref _fp8Scaled, CheckpointTypes.Fp8Rows);
            }
        }

        return new ScaledInput(f16, fp8);

        float[]? Scale(ref float[] buffer, GgmlType type)
        {
            var length = (long)rows * k;
            if (buffer.Length < length)
            {
                buffer = GC.AllocateUninitializedArray<float>(checked((int)Math.Max(length, buffer.Length * 2L)), pinned: true);
            }

            fixed (float* a = input)
            fixed (float* s = buffer)
            {
                return WidenedMatMul.ScaleActivations(type, a, k, rows, k, s) ? buffer : null;
            }
        }
    }

    /// <summary>One matmul input as the widened kernels read it scaled, per weight type. // F16, Fp8: (rows, k) or null</summary>
    private readonly record struct ScaledInput(float[]? F16, float[]? Fp8)
    {
        public float[]? For(GgmlType type) => type == GgmlType.F16 ? F16 : type == CheckpointTypes.Fp8Rows ? Fp8 : null;
    }

    /// <summary>
    /// Rows of a checkpoint layout (4-bit with zero points, or columns in <c>g_idx</c> order): each row is
    /// decoded to f32 once and met by every activation of the tile with the F32 dot, so outputs equal those of the
    /// dequantized F32 weights bit for bit.
    /// </summary>
    private static void DecodedRows(WeightMatrix w, float[] input, int first, int last, int t0, int count, float[] output)
    {
        var n = w.Rows;
        var k = w.Columns;
        var buffer = t_decodedRow is { } b && b.Length >= k ? b : t_decodedRow = GC.AllocateUninitializedArray<float>(k, pinned: true);
        fixed (float* x = input)
        fixed (float* y = output)
        fixed (float* row = buffer)
        {
            for (var j = first; j < last; j++)
            {
                RowDecoder.Decode(w, j, new Span<float>(row, k)); // (k)
                for (var t = t0; t < t0 + count; t++)
                {
                    y[((long)t * n) + j] = WidenedMatMul.Dot(GgmlType.F32, (byte*)row, x + ((long)t * k), k);
                }
            }
        }
    }

    /// <summary>
    /// How one matmul is cut: per target, weight row blocks (the work items, in multiples of an interleaved group)
    /// and the activation tile each block runs against at a time.
    /// </summary>
    private sealed class MatMulPlan
    {
        private readonly int[] _starts;
        private readonly int[] _blockRows;
        private readonly int[] _targetRows;

        private MatMulPlan(int[] starts, int[] blockRows, int[] targetRows, int[] tileRows)
        {
            _starts = starts;
            _blockRows = blockRows;
            _targetRows = targetRows;
            TileRows = tileRows;
        }

        public int ItemCount => _starts[^1];

        /// <summary>Activation rows per tile, per target.</summary>
        public int[] TileRows { get; }

        public static MatMulPlan Create(MatMulTarget[] targets, int rows, int threads, QuantizedInput q, long l2Bytes)
        {
            var totalRows = 0;
            foreach (var t in targets)
            {
                totalRows += t.Weight.Rows;
            }

            // Enough blocks that every thread gets several (the last ones balance the load), each at most a quarter
            // of L2 so it survives there while the activation tiles pass.
            var balanced = totalRows / (threads * 8);
            var starts = new int[targets.Length + 1];
            var blockRows = new int[targets.Length];
            var targetRows = new int[targets.Length];
            var tileRows = new int[targets.Length];
            for (var i = 0; i < targets.Length; i++)
            {
                var w = targets[i].Weight;
                var fitting = (int)Math.Min(int.MaxValue, l2Bytes / 4 / Math.Max(1, w.RowBytes));
                // Multiples of one group, not of the Avx512 kernels' group pairs: rounding blocks down to sixteen rows
                // (48 instead of 56 for a 1B model's ffn_down) made Q4_0 prefill on two threads ~15% slower; a block
                // with an odd number of groups runs its last group on the 256-bit kernel.
                blockRows[i] = Math.Clamp(Math.Min(balanced, fitting) & ~7, 8, 256);
                targetRows[i] = w.Rows;
                starts[i + 1] = starts[i] + ((w.Rows + blockRows[i] - 1) / blockRows[i]);

                // The tile is what the kernel reads per activation row; a multiple of eight rows (the widest kernels).
                long activationRow = IsQuantized(w.Type) && ActivationQuantizer.PairedFormat(w.Type) == GgmlType.Q8_0
                    ? q.Q8_0RowBytes
                    : IsQuantized(w.Type) ? q.Q8KRowBytes : (long)w.Columns * sizeof(float);
                var tile = (int)Math.Min(rows, l2Bytes / 2 / Math.Max(1, activationRow));
                tileRows[i] = tile >= rows ? Math.Max(1, rows) : Math.Max(8, tile & ~7);
            }

            return new MatMulPlan(starts, blockRows, targetRows, tileRows);
        }

        /// <summary>Item → (target, first row, end row).</summary>
        public (int Target, int First, int Last) Item(int item)
        {
            var target = 0;
            while (item >= _starts[target + 1])
            {
                target++;
            }

            var first = (item - _starts[target]) * _blockRows[target];
            return (target, first, Math.Min(first + _blockRows[target], _targetRows[target]));
        }
    }
}
