using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Fathom.Engine.Quantization;
using Fathom.Gguf;

namespace Fathom.Engine.Tests.Quantization;

/// <summary>
/// The software forms of <c>vpdpbusd</c> and <c>sdot</c> (<see cref="ByteDotEmulation"/>) against the instructions'
/// definitions, and against the instructions themselves where this CPU has them; inputs that a saturating or
/// wrongly signed form would get wrong; and the AvxVnni and NeonDot kernels, run through them in this process,
/// giving exactly the outputs of the tiers they stand beside (<see cref="KernelTierTests"/> also reruns every kernel
/// suite with each tier forced through <see cref="KernelTiers.EmulateVariable"/>).
/// </summary>
public sealed unsafe class ByteDotEmulationTests
{
    private const int Lanes = 8;

    [Fact]
    public void Vpdpbusd_emulation_is_the_instruction_exactly()
    {
        foreach (var (acc, u, s) in Cases(seed: 1))
        {
            var emulated = ByteDotEmulation.MultiplyWideningAndAdd(Vector256.Create(acc), Vector256.Create(u), Vector256.Create(s));
            Assert.Equal(Dpbusd(acc, u, s), ToArray(emulated));
            if (AvxVnni.IsSupported)
            {
                Assert.Equal(emulated, AvxVnni.MultiplyWideningAndAdd(Vector256.Create(acc), Vector256.Create(u), Vector256.Create(s)));
            }
        }
    }

    [Fact]
    public void Sdot_emulation_is_the_instruction_exactly()
    {
        foreach (var (acc, u, s) in Cases(seed: 2))
        {
            var left = MemoryMarshal.Cast<byte, sbyte>(u).ToArray();
            for (var half = 0; half < 2; half++)
            {
                var a = acc.AsSpan(4 * half, 4).ToArray();
                var l = left.AsSpan(16 * half, 16).ToArray();
                var r = s.AsSpan(16 * half, 16).ToArray();
                var emulated = ByteDotEmulation.DotProduct(Vector128.Create(a), Vector128.Create(l), Vector128.Create(r));
                Assert.Equal(Sdot(a, l, r), ToArray(emulated));
                if (Dp.IsSupported)
                {
                    Assert.Equal(emulated, Dp.DotProduct(Vector128.Create(a), Vector128.Create(l), Vector128.Create(r)));
                }
            }
        }
    }

    /// <summary>
    /// The extreme cases really discriminate: on them a form with <c>vpmaddubsw</c>'s saturating int16 pair sums, or
    /// one that read sdot's left bytes as unsigned, gives other sums than the definitions, so the two tests above
    /// would fail for such an emulation.
    /// </summary>
    [Fact]
    public void The_extreme_cases_tell_the_exact_sums_from_saturating_or_unsigned_ones()
    {
        var (acc, u, s) = Cases(seed: 3).First();
        Assert.NotEqual(Dpbusd(acc, u, s), SaturatingPairs(acc, u, s));
        if (Avx2.IsSupported)
        {
            var maddubs = Vector256.Create(acc) + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256.Create(u), Vector256.Create(s)), Vector256.Create((short)1));
            Assert.Equal(SaturatingPairs(acc, u, s), ToArray(maddubs));
        }

        var left = MemoryMarshal.Cast<byte, sbyte>(u.AsSpan(0, 16)).ToArray();
        var right = s.AsSpan(0, 16).ToArray();
        Assert.NotEqual(Sdot(acc[..4], left, right), Dpbusd(acc[..4], u[..16], right));
    }

    [Fact]
    public void The_emulated_kernels_give_the_outputs_of_the_tiers_beside_them()
    {
        Assert.SkipUnless(InterleavedLayout.IsSupported, "no vector hardware: the per-row kernels run instead");
        const int Columns = 256;
        const int Rows = 19;
        const int Count = 13;
        var random = new Random(7);
        var q8 = Blocks(random, Rows * Columns / 32, Q8_0.BlockBytes, _ => (byte)(random.Next(3) == 0 ? (random.Next(2) == 0 ? 0x80 : 0x7F) : random.Next(256)));
        var q4 = Blocks(random, Rows * Columns / 32, Q4_0.BlockBytes, _ => (byte)random.Next(256));
        var activations = Blocks(random, Count * Columns / 32, Q8_0.BlockBytes, _ => (byte)(random.Next(3) == 0 ? (random.Next(2) == 0 ? 0x81 : 0x7F) : random.Next(0x81, 0x17F)));
        var int4 = new byte[Rows * Columns / 32 * Int4ZeroPoint.BlockBytes];
        for (var b = 0; b < Rows * Columns / 32; b++)
        {
            var quants = new byte[32];
            random.NextBytes(quants);
            Int4ZeroPoint.WriteBlock(quants, BitConverter.HalfToUInt16Bits((Half)(random.NextDouble() - 0.5)), random.Next(17), int4.AsSpan(b * Int4ZeroPoint.BlockBytes, Int4ZeroPoint.BlockBytes));
        }

        // The 128-bit tiers: sdot in place of the widening multiplies, signed weights in both.
        Assert.Equal(Interleaved<PortableDot>(GgmlType.Q8_0, q8, activations, Rows, Columns, Count), Interleaved<DpDot>(GgmlType.Q8_0, q8, activations, Rows, Columns, Count));
        Assert.Equal(Interleaved<PortableDot>(GgmlType.Q4_0, q4, activations, Rows, Columns, Count), Interleaved<DpDot>(GgmlType.Q4_0, q4, activations, Rows, Columns, Count));
        Assert.Equal(ZeroPoint<PortableDot>(int4, activations, Rows, Columns, Count), ZeroPoint<DpDot>(int4, activations, Rows, Columns, Count));
        if (Avx2.IsSupported && Fma.IsSupported)
        {
            // The 256-bit tiers: vpdpbusd on weights stored q + 128, against the sign trick on signed weights.
            Assert.Equal(Interleaved<MaddubsDot>(GgmlType.Q8_0, q8, activations, Rows, Columns, Count), Interleaved<VnniDot>(GgmlType.Q8_0, q8, activations, Rows, Columns, Count));
            Assert.Equal(Interleaved<MaddubsDot>(GgmlType.Q4_0, q4, activations, Rows, Columns, Count), Interleaved<VnniDot>(GgmlType.Q4_0, q4, activations, Rows, Columns, Count));
            Assert.Equal(ZeroPoint<MaddubsDot>(int4, activations, Rows, Columns, Count), ZeroPoint<VnniDot>(int4, activations, Rows, Columns, Count));
        }
    }

    [Fact]
    public void The_emulated_tiers_are_named_and_only_supported_where_their_instruction_runs()
    {
        Assert.Equal("neon-dot", KernelTiers.Name(KernelTier.NeonDot));
        Assert.Equal("avx-vnni", KernelTiers.Name(KernelTier.AvxVnni));
        var emulated = Environment.GetEnvironmentVariable(KernelTiers.EmulateVariable);
        Assert.Equal(
            emulated == "neon-dot" || (Dp.IsSupported && KernelTiers.Current == KernelTier.NeonDot),
            KernelTiers.Supports(KernelTier.NeonDot));
        Assert.Equal(
            (emulated == "avx-vnni" || AvxVnni.IsSupported) && KernelTiers.Current >= KernelTier.AvxVnni,
            KernelTiers.Supports(KernelTier.AvxVnni));
        if (!string.IsNullOrEmpty(emulated))
        {
            Assert.Equal(emulated, KernelTiers.Name(KernelTiers.Current));
            Assert.Equal(KernelTiers.Current, InterleavedLayout.Tier);
            Assert.Equal(KernelTiers.Current == KernelTier.AvxVnni ? 128 : 0, InterleavedLayout.Q8_0Offset);
        }
    }

    /// <summary>
    /// (accumulator, unsigned bytes, signed bytes) for eight lanes: random ones, and first the extremes (255 · −128 and
    /// 255 · 127 four to a lane, −128 · −128, accumulators at the int32 limits so the add must wrap).
    /// </summary>
    private static IEnumerable<(int[] Acc, byte[] U, sbyte[] S)> Cases(int seed)
    {
        var random = new Random(seed);
        var u = new byte[32];
        var s = new sbyte[32];
        for (var i = 0; i < 32; i++)
        {
            (u[i], s[i]) = (i / 4 % 4) switch
            {
                0 => ((byte)255, (sbyte)-128),
                1 => ((byte)255, (sbyte)127),
                2 => ((byte)0x80, (sbyte)-128), // −128 · −128 when read signed
                _ => ((byte)(i % 2 == 0 ? 255 : 1), (sbyte)(i % 2 == 0 ? 127 : -128)),
            };
        }

        yield return ([0, 1, -1, 7, int.MaxValue, int.MinValue, int.MaxValue - 100_000, int.MinValue + 100_000], u.ToArray(), s.ToArray());
        for (var n = 0; n < 200; n++)
        {
            var acc = new int[Lanes];
            for (var i = 0; i < Lanes; i++)
            {
                acc[i] = random.Next(int.MinValue, int.MaxValue);
            }

            random.NextBytes(u);
            random.NextBytes(MemoryMarshal.AsBytes(s.AsSpan()));
            yield return (acc, u.ToArray(), s.ToArray());
        }
    }

    /// <summary>vpdpbusd by its definition: per lane, the accumulator plus four unsigned · signed products, wrapping.</summary>
    private static int[] Dpbusd(int[] acc, byte[] u, sbyte[] s)
    {
        var result = new int[acc.Length];
        for (var i = 0; i < acc.Length; i++)
        {
            var sum = 0;
            for (var k = 0; k < 4; k++)
            {
                sum += u[(4 * i) + k] * s[(4 * i) + k];
            }

            result[i] = unchecked(acc[i] + sum);
        }

        return result;
    }

    /// <summary>sdot by its definition: per lane, the accumulator plus four signed · signed products, wrapping.</summary>
    private static int[] Sdot(int[] acc, sbyte[] left, sbyte[] right)
    {
        var result = new int[acc.Length];
        for (var i = 0; i < acc.Length; i++)
        {
            var sum = 0;
            for (var k = 0; k < 4; k++)
            {
                sum += left[(4 * i) + k] * right[(4 * i) + k];
            }

            result[i] = unchecked(acc[i] + sum);
        }

        return result;
    }

    /// <summary>The wrong form: products summed in pairs into int16 with saturation (vpmaddubsw), then into the lane.</summary>
    private static int[] SaturatingPairs(int[] acc, byte[] u, sbyte[] s)
    {
        var result = new int[acc.Length];
        for (var i = 0; i < acc.Length; i++)
        {
            var sum = 0;
            for (var k = 0; k < 4; k += 2)
            {
                var pair = (u[(4 * i) + k] * s[(4 * i) + k]) + (u[(4 * i) + k + 1] * s[(4 * i) + k + 1]);
                sum += Math.Clamp(pair, short.MinValue, short.MaxValue);
            }

            result[i] = unchecked(acc[i] + sum);
        }

        return result;
    }

    private static int[] ToArray(Vector256<int> v)
    {
        var result = new int[Vector256<int>.Count];
        v.CopyTo(result);
        return result;
    }

    private static int[] ToArray(Vector128<int> v)
    {
        var result = new int[Vector128<int>.Count];
        v.CopyTo(result);
        return result;
    }

    /// <summary>Blocks of a 2-byte fp16 scale in [−1, 1) and then bytes from <paramref name="value"/>.</summary>
    private static byte[] Blocks(Random random, int count, int blockBytes, Func<int, byte> value)
    {
        var bytes = new byte[count * blockBytes];
        for (var b = 0; b < count; b++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(b * blockBytes), (Half)((random.NextDouble() * 2) - 1));
            for (var i = 2; i < blockBytes; i++)
            {
                bytes[(b * blockBytes) + i] = value(i);
            }
        }

        return bytes;
    }

    /// <summary>
    /// <typeparamref name="TDot"/>'s interleaved kernels on a matrix packed for it: the layout's Q8_0 bytes carry this
    /// process's offset, so they are flipped by 128 where the tier's differs.
    /// </summary>
    private static float[] Interleaved<TDot>(GgmlType type, byte[] weights, byte[] activations, int rows, int columns, int count)
        where TDot : struct, IInterleavedDot
    {
        var nb = columns / 32;
        var size = InterleavedLayout.ByteSize(type, columns, rows);
        var packed = (byte*)NativeMemory.AlignedAlloc((nuint)size, 64);
        try
        {
            var info = new int[2 * count * nb];
            var y = new float[count * rows];
            fixed (byte* w = weights, a = activations)
            fixed (int* i = info)
            fixed (float* o = y)
            {
                InterleavedLayout.Pack(type, w, columns, rows, packed);
                var groupBlock = InterleavedLayout.GroupBlockBytes(type);
                for (long g = 0; type == GgmlType.Q8_0 && TDot.Q8_0Offset != InterleavedLayout.Q8_0Offset && g < size; g += groupBlock)
                {
                    for (var k = 16; k < groupBlock; k++)
                    {
                        packed[g + k] ^= 0x80;
                    }
                }

                InterleavedMatMul.BlockInfo(a, count, nb, i);
                InterleavedKernels<TDot>.Rows(type, packed, rows, columns, 0, rows, a, (int)Q8_0.RowBytes(columns), i, count, o, rows);
            }

            return y;
        }
        finally
        {
            NativeMemory.AlignedFree(packed);
        }
    }

    private static float[] ZeroPoint<TDot>(byte[] weights, byte[] activations, int rows, int columns, int count)
        where TDot : struct, IInterleavedDot
    {
        var nb = columns / 32;
        var packed = new byte[InterleavedInt4ZeroPointLayout.ByteSize(columns, rows)];
        var info = new int[2 * count * nb];
        var y = new float[count * rows];
        fixed (byte* w = weights, a = activations, p = packed)
        fixed (int* i = info)
        fixed (float* o = y)
        {
            InterleavedInt4ZeroPointLayout.Pack(w, columns, rows, p);
            InterleavedMatMul.BlockInfo(a, count, nb, i);
            InterleavedInt4ZeroPointKernels<TDot>.Rows(p, rows, columns, 0, rows, a, (int)Q8_0.RowBytes(columns), i, count, o, rows);
        }

        return y;
    }
}
