using System.Runtime.Intrinsics;
using Fathom.Engine.Quantization;
using Fathom.Gguf;

namespace Fathom.Engine.Tests.Quantization;

/// <summary>
/// The float-weight kernels' own contracts: F16 converts exactly (every finite half, at every vector width this CPU
/// runs, and in the scalar tail), and the streamed decode path and the panel prefill path give identical outputs.
/// </summary>
public sealed unsafe class WidenedMatMulTests
{
    [Fact]
    public void Every_finite_half_converts_exactly_at_every_width()
    {
        var halves = Enumerable.Range(0, 1 << 16).Select(i => (ushort)i).Where(h => (h & 0x7C00) != 0x7C00).ToArray();
        var expected = halves.Select(h => BitConverter.SingleToInt32Bits((float)BitConverter.UInt16BitsToHalf(h))).ToArray();
        var actual = new float[halves.Length];
        fixed (ushort* source = halves)
        fixed (float* destination = actual)
        {
            for (var i = 0; i < halves.Length; i++)
            {
                destination[i] = F16Elements.Element((byte*)source, i);
            }

            Assert.Equal(expected, actual.Select(BitConverter.SingleToInt32Bits).ToArray());
            if (Vector512.IsHardwareAccelerated)
            {
                Convert<Lanes512, Vector512<float>>(source, destination, halves.Length);
                Assert.Equal(expected, actual.Select(BitConverter.SingleToInt32Bits).ToArray());
            }

            if (Vector256.IsHardwareAccelerated)
            {
                Convert<Lanes256, Vector256<float>>(source, destination, halves.Length);
                Assert.Equal(expected, actual.Select(BitConverter.SingleToInt32Bits).ToArray());
            }

            Convert<Lanes128, Vector128<float>>(source, destination, halves.Length);
            Assert.Equal(expected, actual.Select(BitConverter.SingleToInt32Bits).ToArray());
        }
    }

    [Theory]
    [InlineData(GgmlType.F32, 2048 + 5, 1f)]
    [InlineData(GgmlType.F16, 2048 + 5, 1f)]
    [InlineData(GgmlType.BF16, 2048 + 5, 1f)]
    [InlineData(GgmlType.F16, 3, 1f)]
    [InlineData(GgmlType.F16, 2048 + 5, 1e5f)] // activations past 2^15: F16 decode takes its unscaled path
    public void Decode_and_prefill_paths_give_identical_outputs(GgmlType type, int k, float scale)
    {
        const int Rows = 11;
        const int Count = 9;
        var random = new Random(k + (int)type);
        var values = Enumerable.Range(0, Rows * k).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var weights = new byte[TensorFormats.RowBytes(type, (long)Rows * k)];
        TensorFormats.QuantizeRow(type, values, weights, values.Length);
        var x = Enumerable.Range(0, Count * k).Select(_ => (float)(random.NextDouble() - 0.5) * scale).ToArray();
        var batched = new float[Count * Rows];
        var panel = new float[WidenedMatMul.BlockRows * k];
        var rowBytes = TensorFormats.RowBytes(type, k);
        fixed (byte* w = weights)
        fixed (float* a = x, y = batched, scratch = panel)
        {
            WidenedMatMul.Rows(type, w, rowBytes, k, 0, Rows, a, k, Count, y, Rows, scratch);
            for (var t = 0; t < Count; t++)
            {
                var alone = new float[Rows];
                fixed (float* y1 = alone)
                {
                    WidenedMatMul.Rows(type, w, rowBytes, k, 0, Rows, a + ((long)t * k), k, 1, y1, Rows, scratch);
                }

                Assert.Equal(alone, batched.AsSpan(t * Rows, Rows).ToArray());
                for (var r = 0; r < Rows; r++)
                {
                    Assert.Equal(alone[r], WidenedMatMul.Dot(type, w + (r * rowBytes), a + ((long)t * k), k));
                }
            }
        }
    }

    private static void Convert<TL, TV>(ushort* source, float* destination, int n)
        where TL : IFloatLanes<TV>
        where TV : struct
    {
        var i = 0;
        for (; i + TL.Count <= n; i += TL.Count)
        {
            TL.Store(TL.LoadHalf(source + i), destination + i);
        }

        for (; i < n; i++)
        {
            destination[i] = F16Elements.Element((byte*)source, i);
        }
    }
}
