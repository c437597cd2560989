using System.Runtime.CompilerServices;
using Fathom.Gguf;
using Fathom.Engine.Quantization;

namespace Fathom.Engine.Backends.Cpu;

/// <summary>Quantized weights: activations quantized once per matmul input, then integer dots per block.</summary>
internal sealed unsafe partial class CpuBackend
{
    private byte[] _q8_0 = []; // (rows, k/32 · 34 bytes), pinned
    private byte[] _q8k = [];  // (rows, k/256 · 292 bytes), pinned
    private int[] _q8_0Info = []; // (rows, k/32, 2), pinned: Σ q and scale of each Q8_0 block, for interleaved weights

    /// <summary>The input quantized to every format the targets pair with (each at most once).</summary>
    private QuantizedInput QuantizeActivations(float[] input, int rows, int k, MatMulTarget[] targets, bool parallel)
    {
        bool needQ8_0 = false, needQ8K = false, needSums = false;
        foreach (var t in targets)
        {
            if (IsQuantized(t.Weight.Type))
            {
                var format = ActivationQuantizer.PairedFormat(t.Weight.Type);
                needQ8_0 |= format == GgmlType.Q8_0;
                needQ8K |= format == GgmlType.Q8_K;
                needSums |= t.Weight.Interleaved;
            }
        }

        if (!needQ8_0 && !needQ8K)
        {
            return default;
        }

        var q8_0Row = needQ8_0 ? (int)Q8_0.RowBytes(k) : 0;
        var q8kRow = needQ8K ? (int)Q8K.RowBytes(k) : 0;
        _q8_0 = Grow(_q8_0, (long)rows * q8_0Row);
        _q8k = Grow(_q8k, (long)rows * q8kRow);
        var nb = k / Q8_0.BlockSize;
        if (needSums && _q8_0Info.Length < 2 * rows * nb)
        {
            _q8_0Info = GC.AllocateUninitializedArray<int>(Math.Max(2 * rows * nb, _q8_0Info.Length * 2), pinned: true);
        }

        var q8_0 = _q8_0;
        var q8k = _q8k;
        var info = _q8_0Info;
        RunParallel(rows, parallel && rows > 1, r =>
        {
            fixed (float* x = &input[(long)r * k])
            {
                if (needQ8_0)
                {
                    fixed (byte* y = &q8_0[(long)r * q8_0Row])
                    {
                        ActivationQuantizer.Q8_0Row(x, y, k);
                        if (needSums)
                        {
                            fixed (int* s = &info[2 * r * nb])
                            {
                                InterleavedMatMul.BlockInfo(y, 1, nb, s);
                            }
                        }
                    }
                }

                if (needQ8K)
                {
                    fixed (byte* y = &q8k[(long)r * q8kRow])
                    {
                        ActivationQuantizer.Q8KRow(x, y, k);
                    }
                }
            }
        });
        return new QuantizedInput(q8_0, q8_0Row, q8k, q8kRow, info);
    }

    /// <summary>
    /// Weight rows [first, last) against every activation row, in tiles of <see cref="InputRowsPerTile"/> activations
    /// so a tile stays in cache while the chunk's weight rows stream past it. Each output comes from the same
    /// per-row kernel sequence whatever the tile or batch (see <see cref="QuantMatMul"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void QuantizedChunk(QuantizedInput input, int rows, WeightMatrix w, float[] output, int first, int last)
    {
        if (w.Interleaved)
        {
            if (InterleavedKQuantLayout.Supports(w.Type))
            {
                InterleavedKQuantChunk(input, rows, w, output, first, last);
                return;
            }

            InterleavedChunk(input, rows, w, output, first, last);
            return;
        }

        var n = w.Rows;
        var k = w.Columns;
        var count = last - first;
        var weights = new ReadOnlySpan<byte>(w.Row(first), checked((int)(count * w.RowBytes)));
        var (activations, rowBytes) = ActivationQuantizer.PairedFormat(w.Type) == GgmlType.Q8_0
            ? (input.Q8_0, input.Q8_0RowBytes)
            : (input.Q8K, input.Q8KRowBytes);
        for (var r0 = 0; r0 < rows; r0 += InputRowsPerTile)
        {
            var tile = Math.Min(InputRowsPerTile, rows - r0);
            var a = new ReadOnlySpan<byte>(activations, r0 * rowBytes, tile * rowBytes);
            var y = output.AsSpan((r0 * n) + first);
            switch (w.Type)
            {
                case GgmlType.Q8_0: QuantMatMul.Q8_0(weights, count, k, a, tile, y, n); break;
                case GgmlType.Q4_0: QuantMatMul.Q4_0(weights, count, k, a, tile, y, n); break;
                case GgmlType.Q4_K: QuantMatMul.Q4K(weights, count, k, a, tile, y, n); break;
                default: QuantMatMul.Q6K(weights, count, k, a, tile, y, n); break;
            }
        }
    }

    /// <summary>Weight rows [first, last) of an interleaved matrix against every activation row, a tile at a time.</summary>
    private static void InterleavedChunk(QuantizedInput input, int rows, WeightMatrix w, float[] output, int first, int last)
    {
        fixed (byte* a = input.Q8_0)
        fixed (int* info = input.Q8_0Info)
        fixed (float* y = output)
        {
            for (var r0 = 0; r0 < rows; r0 += InputRowsPerTile)
            {
                var tile = Math.Min(InputRowsPerTile, rows - r0);
                InterleavedMatMul.Rows(
                    w.Type, w.Data, w.Rows, w.Columns, first, last,
                    a + ((long)r0 * input.Q8_0RowBytes), input.Q8_0RowBytes, info + (2L * r0 * (w.Columns / Q8_0.BlockSize)), tile,
                    y + ((long)r0 * w.Rows), w.Rows);
            }
        }
    }

    /// <summary>Weight rows [first, last) of an interleaved Q4_K/Q6_K matrix against every Q8_K activation row, a tile at a time.</summary>
    private static void InterleavedKQuantChunk(QuantizedInput input, int rows, WeightMatrix w, float[] output, int first, int last)
    {
        fixed (byte* a = input.Q8K)
        fixed (float* y = output)
        {
            for (var r0 = 0; r0 < rows; r0 += InputRowsPerTile)
            {
                var tile = Math.Min(InputRowsPerTile, rows - r0);
                InterleavedKQuantMatMul.Rows(
                    w.Type, w.Data, w.Rows, w.Columns, first, last,
                    a + ((long)r0 * input.Q8KRowBytes), input.Q8KRowBytes, tile, y + ((long)r0 * w.Rows), w.Rows);
            }
        }
    }

    private static byte[] Grow(byte[] buffer, long length) =>
        buffer.Length >= length ? buffer : GC.AllocateUninitializedArray<byte>(checked((int)Math.Max(length, buffer.Length * 2L)), pinned: true);

    /// <summary>
    /// One matmul input in its quantized forms. // Q8_0 (rows, Q8_0RowBytes); Q8K (rows, Q8KRowBytes);
    /// Q8_0Info (rows, k/32, 2) when a weight is interleaved
    /// </summary>
    private readonly record struct QuantizedInput(byte[] Q8_0, int Q8_0RowBytes, byte[] Q8K, int Q8KRowBytes, int[] Q8_0Info);
}
