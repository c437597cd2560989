using Fathom.Engine.Backends;
using Fathom.Engine.Backends.Cpu;
using Fathom.Engine.Quantization;
using Fathom.Gguf;

namespace Fathom.Engine.Tests.Quantization;

/// <summary>
/// The engine layouts for checkpoint weights (<see cref="Fp8Rows"/>, <see cref="Int4ZeroPoint"/>): every SIMD tier
/// this process can run decodes bit for bit as the scalar reference, and the CPU backend's matmul matches exact dots
/// of the reference values.
/// </summary>
public sealed unsafe class CheckpointLayoutTests
{
    private const double U = 1.0 / (1 << 24);

    public static TheoryData<KernelTier> Tiers => [.. Enum.GetValues<KernelTier>().Where(KernelTiers.Supports)];

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Fp8_rows_decode_as_the_reference_on_every_tier(KernelTier tier)
    {
        var random = new Random(3);
        foreach (var n in new[] { 1, 7, 16, 100, 4096 })
        {
            var row = new byte[Fp8Rows.RowBytes(n)];
            random.NextBytes(row);
            BitConverter.TryWriteBytes(row, 0.0173f);
            for (var i = Fp8Rows.HeaderBytes; i < row.Length; i++)
            {
                if (Fp8E4M3.IsNaN(row[i]))
                {
                    row[i] ^= 0x01; // the NaN codes are rejected at load
                }
            }

            var expected = new float[n];
            Fp8Rows.Dequantize(row, expected, n);
            var actual = new float[n];
            fixed (byte* p = row)
            fixed (float* y = actual)
            {
                Fp8Rows.Decode(p, y, n, tier);
            }

            Assert.Equal(expected, actual);
        }
    }

    [Theory]
    [MemberData(nameof(Tiers))]
    public void Int4_zero_point_blocks_decode_as_the_reference_on_every_tier(KernelTier tier)
    {
        var random = new Random(4);
        const int N = 32 * 40;
        var row = new byte[Int4ZeroPoint.RowBytes(N)];
        var quants = new byte[32];
        for (var b = 0; b < N / 32; b++)
        {
            random.NextBytes(quants);
            var scale = BitConverter.HalfToUInt16Bits((Half)((random.NextDouble() * 0.1) + 1e-4));
            Int4ZeroPoint.WriteBlock(quants, scale, b % 17, row.AsSpan(b * Int4ZeroPoint.BlockBytes, Int4ZeroPoint.BlockBytes));
        }

        var expected = new float[N];
        Int4ZeroPoint.Dequantize(row, expected, N);
        var actual = new float[N];
        fixed (byte* p = row)
        fixed (float* y = actual)
        {
            Int4ZeroPoint.Decode(p, y, N, tier);
        }

        Assert.Equal(expected, actual);
        // Q4_0's nibble order: element 16 is byte 0's high nibble, element 1 is byte 1's low nibble.
        var first = row.AsSpan(0, Int4ZeroPoint.BlockBytes);
        var s = (float)BitConverter.UInt16BitsToHalf((ushort)(first[0] | (first[1] << 8)));
        Assert.Equal(((first[4] >> 4) - first[2]) * s, expected[16]);
        Assert.Equal(((first[5] & 0xF) - first[2]) * s, expected[1]);
    }

    [Theory]
    [InlineData(0x1000)]
    [InlineData(0x1001)]
    public void Cpu_matmul_of_checkpoint_layouts_matches_exact_dots(int typeId)
    {
        var type = (GgmlType)typeId;
        const int K = 256, N = 19, Rows = 5;
        var random = new Random(typeId);
        var rowBytes = CheckpointTypes.RowBytes(type, K);
        var data = GC.AllocateArray<byte>((int)(rowBytes * N), pinned: true);
        var values = new float[N * K];
        var source = new float[K];
        for (var r = 0; r < N; r++)
        {
            for (var i = 0; i < K; i++)
            {
                source[i] = (float)((random.NextDouble() * 2) - 1);
            }

            var bytes = data.AsSpan((int)(r * rowBytes), (int)rowBytes);
            if (type == CheckpointTypes.Fp8Rows)
            {
                Fp8Rows.Quantize(source, bytes, K);
            }
            else
            {
                Int4Blocks(source, bytes, random);
            }

            CheckpointTypes.DequantizeRow(type, bytes, values.AsSpan(r * K, K), K);
        }

        var x = new float[Rows * K];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (float)((random.NextDouble() * 2) - 1);
        }

        fixed (byte* p = data)
        {
            var w = new WeightMatrix("test", type, p, K, N);
            using var cpu = new CpuBackend(2);
            var y = new float[Rows * N];
            cpu.MatMul(x, Rows, new MatMulTarget(w, y));
            for (var t = 0; t < Rows; t++)
            {
                for (var j = 0; j < N; j++)
                {
                    double exact = 0, magnitude = 0;
                    for (var i = 0; i < K; i++)
                    {
                        var term = (double)x[(t * K) + i] * values[(j * K) + i];
                        exact += term;
                        magnitude += Math.Abs(term);
                    }

                    Assert.True(Math.Abs(y[(t * N) + j] - exact) <= (K + 2) * U * magnitude, $"{CheckpointTypes.Name(type)} [{t},{j}]: {y[(t * N) + j]} vs {exact}");
                }
            }
        }
    }

    /// <summary>Random 4-bit blocks (any quants, zero points 0–16) for a row.</summary>
    internal static void Int4Blocks(ReadOnlySpan<float> source, Span<byte> bytes, Random random)
    {
        var quants = new byte[32];
        for (var b = 0; b < source.Length / 32; b++)
        {
            random.NextBytes(quants);
            var scale = BitConverter.HalfToUInt16Bits((Half)(MathF.Abs(source[b * 32]) / 8 + 1e-3f));
            Int4ZeroPoint.WriteBlock(quants, scale, random.Next(17), bytes.Slice(b * Int4ZeroPoint.BlockBytes, Int4ZeroPoint.BlockBytes));
        }
    }
}
