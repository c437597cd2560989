using Fathom.Engine.Quantization;

namespace Fathom.Engine.Backends.Cpu;

/// <summary>AWQ/GPTQ weights interleaved at load (<see cref="InterleavedInt4ZeroPointLayout"/>): int8-activation dots.</summary>
internal sealed unsafe partial class CpuBackend
{
    private GatheredInput[] _gathered = []; // one per distinct column order of a matmul's targets, reused

    /// <summary>
    /// For every distinct GPTQ <c>desc_act</c> column order among <paramref name="targets"/>, the input gathered into
    /// that order and quantized, once per matmul (every row block of the matrix reads it); null when there is none.
    /// </summary>
    private GatheredInput[]? GatherColumnOrders(float[] input, int rows, int k, MatMulTarget[] targets, bool parallel)
    {
        var count = 0;
        foreach (var t in targets)
        {
            if (t.Weight is { Interleaved: true, ColumnOrder: { } order } w && w.Type == CheckpointTypes.Int4ZeroPoint && Find(_gathered, count, order) is null)
            {
                if (_gathered.Length == count)
                {
                    Array.Resize(ref _gathered, count + 1);
                }

                (_gathered[count++] ??= new GatheredInput()).Order = order;
            }
        }

        if (count == 0)
        {
            return null;
        }

        var nb = k / Q8_0.BlockSize;
        var aRow = (int)Q8_0.RowBytes(k);
        for (var i = 0; i < count; i++)
        {
            var g = _gathered[i];
            g.Q8_0 = Grow(g.Q8_0, (long)rows * aRow);
            g.Info = g.Info.Length >= 2 * rows * nb ? g.Info : GC.AllocateUninitializedArray<int>(2 * rows * nb, pinned: true);
            g.RowBytes = aRow;
            RunParallel(rows, parallel && rows > 1, r =>
            {
                fixed (float* x = &input[(long)r * k])
                fixed (byte* a = &g.Q8_0[(long)r * aRow])
                fixed (int* info = &g.Info[2 * r * nb])
                {
                    InterleavedInt4ZeroPointMatMul.GatherRow(x, g.Order, k, a, info);
                }
            });
        }

        for (var i = count; i < _gathered.Length; i++)
        {
            _gathered[i].Order = [];
        }

        return _gathered;
    }

    /// <summary>
    /// Weight rows [first, last) of an interleaved <see cref="CheckpointTypes.Int4ZeroPoint"/> matrix against
    /// activation rows [t0, t0 + count): the shared Q8_0 activations, or a GPTQ <c>desc_act</c> matrix's gathered ones.
    /// </summary>
    private static void Int4ZeroPointRows(WeightMatrix w, QuantizedInput q, int first, int last, int t0, int count, float[] output)
    {
        var n = w.Rows;
        var k = w.Columns;
        var (activations, rowBytes, sums) = w.ColumnOrder is not { } order
            ? (q.Q8_0, q.Q8_0RowBytes, q.Q8_0Info)
            : Find(q.Gathered, q.Gathered?.Length ?? 0, order) is { } g
            ? (g.Q8_0, g.RowBytes, g.Info)
            : throw new InvalidOperationException($"{w.Name}: its activations were not gathered into its column order");
        fixed (float* y = output)
        fixed (byte* a = activations)
        fixed (int* info = sums)
        {
            InterleavedInt4ZeroPointMatMul.Rows(
                w.Data, n, k, first, last,
                a + ((long)t0 * rowBytes), rowBytes, info + (2L * t0 * (k / Q8_0.BlockSize)), count,
                y + ((long)t0 * n), n);
        }
    }

    private static GatheredInput? Find(GatheredInput[]? gathered, int count, int[] order)
    {
        for (var i = 0; i < count; i++)
        {
            if (ReferenceEquals(gathered![i].Order, order))
            {
                return gathered[i];
            }
        }

        return null;
    }

    /// <summary>A matmul input in one column order, quantized. // Q8_0 (rows, RowBytes); Info (rows, k/32, 2)</summary>
    private sealed class GatheredInput
    {
        public int[] Order { get; set; } = [];

        public byte[] Q8_0 { get; set; } = [];

        public int RowBytes { get; set; }

        public int[] Info { get; set; } = [];
    }
}
