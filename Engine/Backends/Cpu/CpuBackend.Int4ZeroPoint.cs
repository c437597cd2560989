using Fathom.Engine.Quantization;

namespace Fathom.Engine.Backends.Cpu;

/// <summary>AWQ/GPTQ weights interleaved at load (<see cref="InterleavedInt4ZeroPointLayout"/>): int8-activation dots.</summary>
internal sealed unsafe partial class CpuBackend
{
    /// <summary>
    /// Weight rows [first, last) of an interleaved <see cref="CheckpointTypes.Int4ZeroPoint"/> matrix against
    /// activation rows [t0, t0 + count): the shared Q8_0 activations, or for a GPTQ <c>desc_act</c> matrix the f32
    /// input gathered into its column order and quantized per call.
    /// </summary>
    private static void Int4ZeroPointRows(WeightMatrix w, float[] input, QuantizedInput q, int first, int last, int t0, int count, float[] output)
    {
        var n = w.Rows;
        var k = w.Columns;
        fixed (float* y = output)
        {
            if (w.ColumnOrder is { } order)
            {
                fixed (float* x = input)
                {
                    InterleavedInt4ZeroPointMatMul.RowsInColumnOrder(
                        w.Data, n, k, order, first, last, x + ((long)t0 * k), k, count, y + ((long)t0 * n), n);
                }

                return;
            }

            fixed (byte* a = q.Q8_0)
            fixed (int* info = q.Q8_0Info)
            {
                InterleavedInt4ZeroPointMatMul.Rows(
                    w.Data, n, k, first, last,
                    a + ((long)t0 * q.Q8_0RowBytes), q.Q8_0RowBytes, info + (2L * t0 * (k / Q8_0.BlockSize)), count,
                    y + ((long)t0 * n), n);
            }
        }
    }
}
