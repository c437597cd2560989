using Fathom.Engine.Quantization;
using Fathom.Gguf;

namespace Fathom.Engine.Tests.Quantization;

/// <summary>The load-time repacks give the same bytes on several threads as on one (groups are independent).</summary>
public sealed unsafe class ParallelPackTests
{
    private const int Columns = 768;
    private const int Rows = 45; // five whole groups and a partial one

    [Theory]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    public void Packing_on_several_threads_gives_the_bytes_of_one_thread(GgmlType type)
    {
        var values = QuantTestData.Values(Rows * Columns, seed: 7);
        var weights = new byte[TensorFormats.RowBytes(type, Columns) * Rows];
        TensorFormats.QuantizeRow(type, values, weights, values.Length);
        var one = Pack(type, weights, threads: 1);
        var four = Pack(type, weights, threads: 4);
        Assert.Equal(one, four);
        Assert.Contains(one, b => b != 0);
    }

    private static byte[] Pack(GgmlType type, byte[] weights, int threads)
    {
        var kQuant = type is GgmlType.Q4_K or GgmlType.Q6_K;
        var packed = new byte[kQuant ? InterleavedKQuantLayout.ByteSize(type, Columns, Rows) : InterleavedLayout.ByteSize(type, Columns, Rows)];
        fixed (byte* source = weights)
        fixed (byte* destination = packed)
        {
            if (kQuant)
            {
                InterleavedKQuantLayout.Pack(type, source, Columns, Rows, destination, threads);
            }
            else
            {
                InterleavedLayout.Pack(type, source, Columns, Rows, destination, threads);
            }
        }

        return packed;
    }
}
