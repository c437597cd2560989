using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fathom.Engine.Quantization;

/// <summary>
/// The engine's layout for 4-bit grouped checkpoints (AWQ, GPTQ): blocks of 32 elements of one row, 20 bytes — the
/// group's f16 scale <c>s</c>, its zero point <c>z</c> as a byte (0–16: the original GPTQ format adds 1 to a stored nibble), a zero byte, then 16 bytes of nibbles in
/// Q4_0's order (element j is the low nibble of byte j for j &lt; 16, the high nibble of byte j−16 otherwise).
/// Weight = (q − z)·s, exact in f32. A checkpoint group of 32·m columns becomes m blocks carrying the same s and z,
/// so the repacking keeps the published numerics for any group size that is a multiple of 32.
/// </summary>
public static unsafe class Int4ZeroPoint
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 32;

    /// <summary>Bytes per block.</summary>
    public const int BlockBytes = 20;

    /// <summary>Offset of the nibbles within a block.</summary>
    public const int QsOffset = 4;

    /// <summary>Bytes needed for <paramref name="n"/> elements (a multiple of <see cref="BlockSize"/>).</summary>
    public static long RowBytes(long n) => n / BlockSize * BlockBytes;

    /// <summary>The scalar reference: element j of block b = (q − z)·s.</summary>
    public static void Dequantize(ReadOnlySpan<byte> source, Span<float> destination, int n)
    {
        var nb = QuantGuard.BlockCount(n, BlockSize, nameof(Int4ZeroPoint));
        QuantGuard.AtLeast(source.Length, RowBytes(n), "source (bytes)", nameof(Int4ZeroPoint), nameof(source));
        QuantGuard.AtLeast(destination.Length, n, "destination", nameof(Int4ZeroPoint), nameof(destination));
        for (var b = 0; b < nb; b++)
        {
            var block = source.Slice(b * BlockBytes, BlockBytes);
            var s = F16.Read(block, 0);
            int z = block[2];
            var y = destination.Slice(b * BlockSize, BlockSize);
            for (var j = 0; j < 16; j++)
            {
                y[j] = ((block[QsOffset + j] & 0xF) - z) * s;
                y[j + 16] = ((block[QsOffset + j] >> 4) - z) * s;
            }
        }
    }

    /// <summary>Writes one block from 32 quants (0–15), the group's f16 scale bits and zero point.</summary>
    public static void WriteBlock(ReadOnlySpan<byte> quants, ushort scaleBits, int zero, Span<byte> block)
    {
        if ((uint)zero > 16)
        {
            throw new ArgumentOutOfRangeException(nameof(zero), zero, "a zero point is 0–16");
        }

        block[0] = (byte)scaleBits;
        block[1] = (byte)(scaleBits >> 8);
        block[2] = (byte)zero;
        block[3] = 0;
        for (var j = 0; j < 16; j++)
        {
            block[QsOffset + j] = (byte)((quants[j] & 0xF) | ((quants[j + 16] & 0xF) << 4));
        }
    }

    /// <summary>Decodes a row with the widest tier <see cref="KernelTiers.Current"/> allows, bit-identical to <see cref="Dequantize"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Decode(byte* row, float* y, int n) => Decode(row, y, n, KernelTiers.Current);

    /// <summary>Decodes with the kernels of <paramref name="tier"/> (which this process must support).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Decode(byte* row, float* y, int n, KernelTier tier)
    {
        var nb = n / BlockSize;
        if (tier >= KernelTier.Avx512 && Avx512F.IsSupported)
        {
            for (var b = 0; b < nb; b++, row += BlockBytes, y += BlockSize)
            {
                var s = Vector512.Create(HalfTable.Get(row));
                var z = Vector512.Create((int)row[2]);
                var qs = Vector128.Load(row + QsOffset);
                var lo = qs & Vector128.Create((byte)0xF);
                var hi = (qs.AsUInt16() >> 4).AsByte() & Vector128.Create((byte)0xF);
                Vector512.Store(Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(lo) - z) * s, y);
                Vector512.Store(Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(hi) - z) * s, y + 16);
            }
        }
        else if (tier >= KernelTier.Avx2 && Avx2.IsSupported)
        {
            for (var b = 0; b < nb; b++, row += BlockBytes, y += BlockSize)
            {
                var s = Vector256.Create(HalfTable.Get(row));
                var z = Vector256.Create((int)row[2]);
                var qs = Vector128.Load(row + QsOffset);
                var lo = qs & Vector128.Create((byte)0xF);
                var hi = (qs.AsUInt16() >> 4).AsByte() & Vector128.Create((byte)0xF);
                Vector256.Store(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(lo) - z) * s, y);
                Vector256.Store(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(lo, 8)) - z) * s, y + 8);
                Vector256.Store(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(hi) - z) * s, y + 16);
                Vector256.Store(Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(hi, 8)) - z) * s, y + 24);
            }
        }
        else if (tier >= KernelTier.Vector128 && Vector128.IsHardwareAccelerated)
        {
            for (var b = 0; b < nb; b++, row += BlockBytes, y += BlockSize)
            {
                var s = Vector128.Create(HalfTable.Get(row));
                var z = Vector128.Create((int)row[2]);
                var qs = Vector128.Load(row + QsOffset);
                var lo = qs & Vector128.Create((byte)0xF);
                var hi = (qs.AsUInt16() >> 4).AsByte() & Vector128.Create((byte)0xF);
                Store16(lo, z, s, y);
                Store16(hi, z, s, y + 16);
            }
        }
        else
        {
            Dequantize(new ReadOnlySpan<byte>(row, (int)RowBytes(n)), new Span<float>(y, n), n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store16(Vector128<byte> q, Vector128<int> z, Vector128<float> s, float* y)
    {
        var (w0, w1) = Vector128.Widen(q);
        var (a, b) = Vector128.Widen(w0);
        var (c, d) = Vector128.Widen(w1);
        Vector128.Store(Vector128.ConvertToSingle(a.AsInt32() - z) * s, y);
        Vector128.Store(Vector128.ConvertToSingle(b.AsInt32() - z) * s, y + 4);
        Vector128.Store(Vector128.ConvertToSingle(c.AsInt32() - z) * s, y + 8);
        Vector128.Store(Vector128.ConvertToSingle(d.AsInt32() - z) * s, y + 12);
    }
}
