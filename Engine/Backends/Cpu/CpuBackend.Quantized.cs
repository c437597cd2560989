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
                needSums |= t.Weight.Interleaved && format == GgmlType.Q8_0; // only the Q8_0/Q4_0 interleaved kernels read the sums
            }
            else if (t.Weight.Interleaved && t.Weight.Type == CheckpointTypes.Int4ZeroPoint && t.Weight.ColumnOrder is null)
            {
                needQ8_0 = needSums = true; // a desc_act matrix quantizes its own gathered activations
            }
        }

        var gathered = GatherColumnOrders(input, rows, k, targets, parallel);
        if (!needQ8_0 && !needQ8K)
        {
            return new QuantizedInput([], 0, [], 0, [], gathered);
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
        return new QuantizedInput(q8_0, q8_0Row, q8k, q8kRow, info, gathered);
    }

    private static byte[] Grow(byte[] buffer, long length) =>
        buffer.Length >= length ? buffer : GC.AllocateUninitializedArray<byte>(checked((int)Math.Max(length, buffer.Length * 2L)), pinned: true);

    /// <summary>
    /// One matmul input in its quantized forms. // Q8_0 (rows, Q8_0RowBytes); Q8K (rows, Q8KRowBytes);
    /// Q8_0Info (rows, k/32, 2) when a weight is interleaved; Gathered: per GPTQ desc_act column order, the input in that order
    /// </summary>
    private readonly record struct QuantizedInput(byte[] Q8_0, int Q8_0RowBytes, byte[] Q8K, int Q8KRowBytes, int[] Q8_0Info, GatheredInput[]? Gathered = null);
}
