using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Fathom.Engine.Quantization;

/// <summary>
/// Bit-exact software forms of the two byte-dot instructions some tiers are built on, so those tiers' kernels run (and
/// are tested) on machines without them, when <see cref="KernelTiers.EmulateVariable"/> forces the tier. Each
/// is the instruction's definition in plain vector arithmetic: every byte product fits int16 (at most 255 · 128), the
/// four of a 32-bit lane are summed into int32 exactly, and the add to the accumulator wraps as the hardware's does
/// (neither instruction saturates, unlike <c>vpmaddubsw</c>'s int16 pair sums).
/// </summary>
internal static class ByteDotEmulation
{
    /// <summary>
    /// AVX-VNNI <c>vpdpbusd</c>: each int32 lane of <paramref name="acc"/> plus the four products of its unsigned
    /// bytes of <paramref name="u"/> and signed bytes of <paramref name="s"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MultiplyWideningAndAdd(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s)
    {
        var uw = u.AsUInt16();
        var sw = s.AsInt16();
        var even = (uw & Vector256.Create((ushort)0xFF)).AsInt16() * ((sw << 8) >> 8);
        var odd = (uw >> 8).AsInt16() * (sw >> 8);
        return acc + WordPairs(even) + WordPairs(odd);
    }

    /// <summary>
    /// ARM64 <c>sdot</c> (<c>Dp.DotProduct</c>): each int32 lane of <paramref name="acc"/> plus the four products of
    /// its signed bytes of <paramref name="left"/> and <paramref name="right"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> DotProduct(Vector128<int> acc, Vector128<sbyte> left, Vector128<sbyte> right)
    {
        var lw = left.AsInt16();
        var rw = right.AsInt16();
        var even = ((lw << 8) >> 8) * ((rw << 8) >> 8);
        var odd = (lw >> 8) * (rw >> 8);
        return acc + WordPairs(even) + WordPairs(odd);
    }

    /// <summary>The two signed 16-bit halves of each 32-bit lane, added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> WordPairs(Vector256<short> products)
    {
        var lanes = products.AsInt32();
        return ((lanes << 16) >> 16) + (lanes >> 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> WordPairs(Vector128<short> products)
    {
        var lanes = products.AsInt32();
        return ((lanes << 16) >> 16) + (lanes >> 16);
    }
}
