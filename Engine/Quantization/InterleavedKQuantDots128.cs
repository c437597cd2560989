using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Fathom.Engine.Quantization;

/// <summary>
/// The tier-specific steps of <see cref="InterleavedKQuantVector128"/>, whose kernels are generic over it (one body,
/// one specialised copy per tier). A sub-block's byte dots accumulate in a partial (four vectors, in the tier's form),
/// which <see cref="Scale"/> multiplies by the eight rows' sub-block scales into the row sums (eight vectors, likewise),
/// which <see cref="Rows"/> turns into one int32 per row. Every step is exact integer arithmetic, so all tiers give
/// the same integers and, after the shared float steps, the same outputs.
/// </summary>
internal unsafe interface IKQuantDot128
{
    /// <summary>
    /// The partial plus the four-byte dots of rows 0–3 (<paramref name="rows0"/>, four bytes per row, levels 0..63) and
    /// rows 4–7 (<paramref name="rows4"/>) with the four activation bytes at <paramref name="x"/>.
    /// </summary>
    static abstract void Chunk(
        ref Vector128<int> p0, ref Vector128<int> p1, ref Vector128<int> p2, ref Vector128<int> p3,
        Vector128<byte> rows0, Vector128<byte> rows4, byte* x);

    /// <summary>The row sums plus the partial times row r's scale <c>s_r</c>.</summary>
    static abstract void Scale(
        ref Vector128<int> r0, ref Vector128<int> r1, ref Vector128<int> r2, ref Vector128<int> r3,
        ref Vector128<int> r4, ref Vector128<int> r5, ref Vector128<int> r6, ref Vector128<int> r7,
        Vector128<int> p0, Vector128<int> p1, Vector128<int> p2, Vector128<int> p3,
        int s0, int s1, int s2, int s3, int s4, int s5, int s6, int s7);

    /// <summary>Rows 0–3's sums from <paramref name="r0"/>..<paramref name="r3"/> (or 4–7's from r4..r7).</summary>
    static abstract Vector128<int> Rows(Vector128<int> r0, Vector128<int> r1, Vector128<int> r2, Vector128<int> r3);
}

/// <summary>
/// The portable API, which has no byte multiply-add: products widened to int16 and summed per (row, position in the
/// four-byte chunk) over a sub-block (p0 rows 0–1, p1 rows 2–3, ...; Q4_K: 8 chunks, ≤ 8·15·128; Q6_K: 4 chunks,
/// ≤ 4·63·128, both below 2^15), scaled into int32 per (row, position) (r0..r7 one row each), reduced per row at the
/// end of the super-block.
/// </summary>
internal readonly unsafe struct KQuantWidenedDot : IKQuantDot128
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Chunk(
        ref Vector128<int> p0, ref Vector128<int> p1, ref Vector128<int> p2, ref Vector128<int> p3,
        Vector128<byte> rows0, Vector128<byte> rows4, byte* x)
    {
        var ax = Vector128.WidenLower(Vector128.Create(*(int*)x).AsSByte()); // the four bytes as int16, twice
        p0 = (p0.AsInt16() + (Vector128.WidenLower(rows0).AsInt16() * ax)).AsInt32();
        p1 = (p1.AsInt16() + (Vector128.WidenUpper(rows0).AsInt16() * ax)).AsInt32();
        p2 = (p2.AsInt16() + (Vector128.WidenLower(rows4).AsInt16() * ax)).AsInt32();
        p3 = (p3.AsInt16() + (Vector128.WidenUpper(rows4).AsInt16() * ax)).AsInt32();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scale(
        ref Vector128<int> r0, ref Vector128<int> r1, ref Vector128<int> r2, ref Vector128<int> r3,
        ref Vector128<int> r4, ref Vector128<int> r5, ref Vector128<int> r6, ref Vector128<int> r7,
        Vector128<int> p0, Vector128<int> p1, Vector128<int> p2, Vector128<int> p3,
        int s0, int s1, int s2, int s3, int s4, int s5, int s6, int s7)
    {
        r0 += Vector128.WidenLower(p0.AsInt16()) * s0;
        r1 += Vector128.WidenUpper(p0.AsInt16()) * s1;
        r2 += Vector128.WidenLower(p1.AsInt16()) * s2;
        r3 += Vector128.WidenUpper(p1.AsInt16()) * s3;
        r4 += Vector128.WidenLower(p2.AsInt16()) * s4;
        r5 += Vector128.WidenUpper(p2.AsInt16()) * s5;
        r6 += Vector128.WidenLower(p3.AsInt16()) * s6;
        r7 += Vector128.WidenUpper(p3.AsInt16()) * s7;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Rows(Vector128<int> r0, Vector128<int> r1, Vector128<int> r2, Vector128<int> r3) =>
        Vector128.Create(Vector128.Sum(r0), Vector128.Sum(r1), Vector128.Sum(r2), Vector128.Sum(r3));
}

/// <summary>
/// ARM64's dot-product extension: <c>sdot</c> (<see cref="DpDot.Sdot"/>) sums each row's four byte products straight
/// into its int32 lane, so the partial is two vectors of per-row sums (p0 rows 0–3, p1 rows 4–7) and the row sums two
/// more (r0, r4); there is nothing left to reduce.
/// </summary>
internal readonly unsafe struct KQuantDpDot : IKQuantDot128
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Chunk(
        ref Vector128<int> p0, ref Vector128<int> p1, ref Vector128<int> p2, ref Vector128<int> p3,
        Vector128<byte> rows0, Vector128<byte> rows4, byte* x)
    {
        var ax = Vector128.Create(*(int*)x).AsSByte();
        p0 = DpDot.Sdot(p0, rows0.AsSByte(), ax);
        p1 = DpDot.Sdot(p1, rows4.AsSByte(), ax);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scale(
        ref Vector128<int> r0, ref Vector128<int> r1, ref Vector128<int> r2, ref Vector128<int> r3,
        ref Vector128<int> r4, ref Vector128<int> r5, ref Vector128<int> r6, ref Vector128<int> r7,
        Vector128<int> p0, Vector128<int> p1, Vector128<int> p2, Vector128<int> p3,
        int s0, int s1, int s2, int s3, int s4, int s5, int s6, int s7)
    {
        r0 += p0 * Vector128.Create(s0, s1, s2, s3);
        r4 += p1 * Vector128.Create(s4, s5, s6, s7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Rows(Vector128<int> r0, Vector128<int> r1, Vector128<int> r2, Vector128<int> r3) => r0;
}
