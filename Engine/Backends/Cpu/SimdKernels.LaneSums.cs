using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fathom.Engine.Backends.Cpu;

/// <summary>
/// Horizontal sums in one fixed tree: lane i is added to lane i + w/2, then the halves again, down to one lane. The
/// one-vector form serves a single dot; the transposing form sums sixteen (eight) vectors at once, one per lane of its
/// result, with the very same additions per vector, so a row's score never depends on how many rows were summed with it.
/// </summary>
internal static unsafe partial class SimdKernels
{
    /// <summary>The sum of v's sixteen lanes: (i, i+8), then (i, i+4), (i, i+2), (0, 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Sum512(Vector512<float> v) => Sum256(v.GetLower() + v.GetUpper());

    /// <summary>The sum of v's eight lanes: (i, i+4), then (i, i+2), (0, 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Sum256(Vector256<float> v)
    {
        var quad = v.GetLower() + v.GetUpper();
        var pair = quad + Vector128.Shuffle(quad, Vector128.Create(2, 3, 0, 1));
        return pair.ToScalar() + pair.GetElement(1);
    }

    /// <summary>
    /// Lane j = <see cref="Sum512"/>(<see cref="Accumulate512"/>(a, row j, n)) for rows j &lt; valid (rows n apart), 0 past
    /// them. // a (n), rows (valid, n) → (16)
    /// Fifteen shuffle-and-add steps replace sixteen separate trees of seven. The rows enter in the order that leaves row j
    /// in lane j: slot k + 4m of the first step holds row 4k + m.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> SumLanes16(float* a, float* rows, int n, int valid)
    {
        Vector512<float> Row(int j) => j < valid ? Accumulate512(a, rows + ((long)j * n), n) : default;

        var w0 = Pairs512(Quarters(Halves512(Row(0), Row(4)), Halves512(Row(8), Row(12))), Quarters(Halves512(Row(1), Row(5)), Halves512(Row(9), Row(13))));
        var w1 = Pairs512(Quarters(Halves512(Row(2), Row(6)), Halves512(Row(10), Row(14))), Quarters(Halves512(Row(3), Row(7)), Halves512(Row(11), Row(15))));
        return Avx512F.Shuffle(w0, w1, 0x88) + Avx512F.Shuffle(w0, w1, 0xDD); // (i, i+1) within each 128-bit lane
    }

    /// <summary>The eight-lane <see cref="SumLanes16"/>: slot h + 2m of the first step holds row 4h + m. // a (n), rows (valid, n) → (8)</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> SumLanes8(float* a, float* rows, int n, int valid)
    {
        Vector256<float> Row(int j) => j < valid ? Accumulate256(a, rows + ((long)j * n), n) : default;

        var w0 = Pairs256(Halves256(Row(0), Row(4)), Halves256(Row(1), Row(5)));
        var w1 = Pairs256(Halves256(Row(2), Row(6)), Halves256(Row(3), Row(7)));
        return Avx.Shuffle(w0, w1, 0x88) + Avx.Shuffle(w0, w1, 0xDD); // (i, i+1) within each 128-bit lane
    }

    // [x lanes i + i+8 | y lanes i + i+8]: each input's 256-bit halves added.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Halves512(Vector512<float> x, Vector512<float> y) =>
        Avx512F.Shuffle4x128(x, y, 0x44) + Avx512F.Shuffle4x128(x, y, 0xEE);

    // From two [p | q] vectors of eight-lane partial sums, four 128-bit quarters, one per input half, each its lanes i + i+4.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Quarters(Vector512<float> x, Vector512<float> y) =>
        Avx512F.Shuffle4x128(x, y, 0x88) + Avx512F.Shuffle4x128(x, y, 0xDD);

    // Per 128-bit lane, [x lanes 0+2, 1+3 | y lanes 0+2, 1+3].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pairs512(Vector512<float> x, Vector512<float> y) =>
        Avx512F.UnpackLow(x.AsDouble(), y.AsDouble()).AsSingle() + Avx512F.UnpackHigh(x.AsDouble(), y.AsDouble()).AsSingle();

    // [x lanes i + i+4 | y lanes i + i+4].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Halves256(Vector256<float> x, Vector256<float> y) =>
        Avx.Permute2x128(x, y, 0x20) + Avx.Permute2x128(x, y, 0x31);

    // Per 128-bit lane, [x lanes 0+2, 1+3 | y lanes 0+2, 1+3].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Pairs256(Vector256<float> x, Vector256<float> y) =>
        Avx.UnpackLow(x.AsDouble(), y.AsDouble()).AsSingle() + Avx.UnpackHigh(x.AsDouble(), y.AsDouble()).AsSingle();
}
