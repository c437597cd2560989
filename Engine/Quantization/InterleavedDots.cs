using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Fathom.Engine.Quantization;

/// <summary>
/// The instruction-set-specific steps of the interleaved kernels (<see cref="InterleavedKernels{TDot}"/>), one struct
/// per <see cref="KernelTier"/>: the kernels are generic over it, so the JIT compiles one specialised copy per tier and
/// every output of a tier follows the same sequence of operations whatever the batch. Lanes are rows: lane r of a
/// vector belongs to row r of the eight-row group. Each <c>x</c> points at four activation bytes, broadcast to every row.
/// </summary>
internal unsafe interface IInterleavedDot
{
    /// <summary>What the layout adds to each Q8_0 weight (128 where the byte dot wants unsigned weights, else 0).</summary>
    static abstract int Q8_0Offset { get; }

    /// <summary>Whether the eight-activation Q8_0 kernel fits this tier's registers.</summary>
    static abstract bool EightAtOnce { get; }

    /// <summary>acc + Σ over each row's four bytes of <paramref name="u"/> (unsigned, at most 15) times the activation bytes.</summary>
    static abstract Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, byte* x);

    /// <summary>acc + the same for a chunk of Q8_0 weights as the layout stores them (see <see cref="Q8_0Offset"/>).</summary>
    static abstract Vector256<int> Q8_0(Vector256<int> acc, Vector256<byte> w, byte* x);

    /// <summary>
    /// partial + <see cref="Dot"/> of the low nibbles against <paramref name="x"/> and the high against x + 16, where
    /// partial (starting at zero) may be held in a narrower form for up to one block's four chunks; <see cref="Widen"/>
    /// turns it into per-row int32 sums.
    /// </summary>
    static abstract Vector256<int> Q4_0(Vector256<int> partial, Vector256<byte> low, Vector256<byte> high, byte* x);

    /// <summary>A block's <see cref="Q4_0"/> partial sums as int32 lanes, one per row.</summary>
    static abstract Vector256<int> Widen(Vector256<int> partial);

    /// <summary>acc + scale · dot, the one rounding step per block.</summary>
    static abstract Vector256<float> Accumulate(Vector256<float> acc, Vector256<float> scale, Vector256<int> dot);

    /// <summary>The eight fp16 row scales at <paramref name="w"/> as floats, exactly.</summary>
    static abstract Vector256<float> Scales(byte* w);
}

/// <summary>
/// AVX-VNNI: <c>vpdpbusd</c> does a chunk's four multiply-adds per row in one instruction (its exact emulation where
/// a test forced the tier on a CPU without it, see <see cref="KernelTiers.EmulateVariable"/>).
/// </summary>
internal readonly unsafe struct VnniDot : IInterleavedDot
{
    public static int Q8_0Offset => 128;

    public static bool EightAtOnce => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, byte* x) =>
        Dpbusd(acc, u, Vector256.Create(*(int*)x).AsSByte());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Q8_0(Vector256<int> acc, Vector256<byte> w, byte* x) => Dot(acc, w, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Q4_0(Vector256<int> acc, Vector256<byte> low, Vector256<byte> high, byte* x) =>
        Dot(Dot(acc, low, x), high, x + 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Widen(Vector256<int> partial) => partial;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Accumulate(Vector256<float> acc, Vector256<float> scale, Vector256<int> dot) =>
        Fma.MultiplyAdd(scale, Vector256.ConvertToSingle(dot), acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Scales(byte* w) => MaddubsDot.Scales(w);

    /// <summary><c>vpdpbusd</c>, or its emulation (the JIT keeps one of the two: <c>IsSupported</c> is a constant to it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dpbusd(Vector256<int> acc, Vector256<byte> u, Vector256<sbyte> s) =>
        AvxVnni.IsSupported ? AvxVnni.MultiplyWideningAndAdd(acc, u, s) : ByteDotEmulation.MultiplyWideningAndAdd(acc, u, s);
}

/// <summary>
/// AVX2 without VNNI (and AVX-512, whose 32 registers let the eight-activation kernel run): <c>vpmaddubsw</c> then
/// <c>vpmaddwd</c>. Q8_0 weights are stored signed and multiplied through the sign trick (|w| · sign(a, w)), because
/// unsigned q + 128 would saturate <c>vpmaddubsw</c>'s int16 pair sums; the activation quantizer keeps |a| ≤ 127, so
/// every pair sum stays within int16 (2 · 128 · 127).
/// </summary>
internal readonly unsafe struct MaddubsDot : IInterleavedDot
{
    public static int Q8_0Offset => 0;

    public static bool EightAtOnce => Vector512.IsHardwareAccelerated;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, byte* x) =>
        acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, Vector256.Create(*(int*)x).AsSByte()), Vector256.Create((short)1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Q8_0(Vector256<int> acc, Vector256<byte> w, byte* x)
    {
        var s = Avx2.Sign(Vector256.Create(*(int*)x).AsSByte(), w.AsSByte());
        return acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w.AsSByte()), s), Vector256.Create((short)1));
    }

    /// <summary>
    /// The partial is int16 pair sums: a nibble pair is at most 2 · 15 · 127 = 3,810, so a block's eight
    /// <c>vpmaddubsw</c> results (30,480) add exactly in int16 and one <c>vpmaddwd</c> per block widens them; that
    /// takes a third of the multiplies off the ports they share.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Q4_0(Vector256<int> partial, Vector256<byte> low, Vector256<byte> high, byte* x) =>
        (partial.AsInt16()
            + Avx2.MultiplyAddAdjacent(low, Vector256.Create(*(int*)x).AsSByte())
            + Avx2.MultiplyAddAdjacent(high, Vector256.Create(*(int*)(x + 16)).AsSByte())).AsInt32();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Widen(Vector256<int> partial) => Avx2.MultiplyAddAdjacent(partial.AsInt16(), Vector256.Create((short)1));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Accumulate(Vector256<float> acc, Vector256<float> scale, Vector256<int> dot) =>
        Fma.MultiplyAdd(scale, Vector256.ConvertToSingle(dot), acc);

    /// <summary>
    /// The magnitude bits moved into f32's exponent/mantissa position and rescaled by 2^112 (which also makes fp16
    /// subnormals exact), then the sign. (.NET exposes no F16C conversion; fp16 inf/NaN scales, which no quantizer
    /// writes, come out finite.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Scales(byte* w)
    {
        var h = Avx2.ConvertToVector256Int32(Vector128.Load((ushort*)w)).AsUInt32();
        var magnitude = ((h & Vector256.Create(0x7FFFu)) << 13).AsSingle() * Vector256.Create(0x77800000u).AsSingle();
        return (magnitude.AsUInt32() | ((h & Vector256.Create(0x8000u)) << 16)).AsSingle();
    }
}

/// <summary>
/// The portable <see cref="Vector128"/> API (ARM64 AdvSimd; SSE on an x64 with AVX2 off), two halves of four rows:
/// int16 products of sign-extended bytes (exact: |q| ≤ 128), summed pairwise into int32 and then per row.
/// </summary>
internal readonly unsafe struct PortableDot : IInterleavedDot
{
    public static int Q8_0Offset => 0;

    public static bool EightAtOnce => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, byte* x) => Q8_0(acc, u, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Q8_0(Vector256<int> acc, Vector256<byte> w, byte* x)
    {
        var a = Vector128.WidenLower(Vector128.Create(*(int*)x).AsSByte());
        return Vector256.Create(
            acc.GetLower() + FourRows(w.GetLower().AsSByte(), a),
            acc.GetUpper() + FourRows(w.GetUpper().AsSByte(), a));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Q4_0(Vector256<int> acc, Vector256<byte> low, Vector256<byte> high, byte* x) =>
        Q8_0(Q8_0(acc, low, x), high, x + 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Widen(Vector256<int> partial) => partial;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Accumulate(Vector256<float> acc, Vector256<float> scale, Vector256<int> dot) =>
        Vector256.Create(
            Vector128.MultiplyAddEstimate(scale.GetLower(), Vector128.ConvertToSingle(dot.GetLower()), acc.GetLower()),
            Vector128.MultiplyAddEstimate(scale.GetUpper(), Vector128.ConvertToSingle(dot.GetUpper()), acc.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Scales(byte* w)
    {
        var h = Vector128.Load((ushort*)w);
        return Vector256.Create(Half4(Vector128.WidenLower(h)), Half4(Vector128.WidenUpper(h)));
    }

    /// <summary>Four fp16 values (low 16 bits of each lane) as floats, exactly (see <see cref="MaddubsDot.Scales"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Half4(Vector128<uint> h)
    {
        var magnitude = ((h & Vector128.Create(0x7FFFu)) << 13).AsSingle() * Vector128.Create(0x77800000u).AsSingle();
        return (magnitude.AsUInt32() | ((h & Vector128.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>Four rows' four-byte dots with <paramref name="a"/> (the four activations, twice, as int16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> FourRows(Vector128<sbyte> w, Vector128<short> a)
    {
        var first = Pairs(Vector128.WidenLower(w) * a);   // rows 0, 1: two pair sums each
        var second = Pairs(Vector128.WidenUpper(w) * a);  // rows 2, 3
        var firstRows = first + Vector128.Shuffle(first, Vector128.Create(1, 0, 3, 2));     // (r0, r0, r1, r1)
        var secondRows = second + Vector128.Shuffle(second, Vector128.Create(1, 0, 3, 2)); // (r2, r2, r3, r3)
        return Vector128.ConditionalSelect(
            Vector128.Create(0, 0, -1, -1),
            Vector128.Shuffle(secondRows, Vector128.Create(0, 2, 0, 2)),
            Vector128.Shuffle(firstRows, Vector128.Create(0, 2, 0, 2)));
    }

    /// <summary>Adjacent int16 products summed into int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Pairs(Vector128<short> products)
    {
        var lanes = products.AsInt32();
        return ((lanes << 16) >> 16) + (lanes >> 16);
    }
}

/// <summary>
/// ARM64 with the dot-product extension: <c>sdot</c> (<see cref="Dp.DotProduct(Vector128{int}, Vector128{sbyte}, Vector128{sbyte})"/>)
/// sums each row's four signed byte products into its int32 lane, on the two halves of four rows, where
/// <see cref="PortableDot"/> widens to int16 and adds pairs twice. Weights stay signed (sdot is signed × signed), so
/// the Q8_0 layout is <see cref="PortableDot"/>'s; the float steps are its too, so both tiers give the same outputs.
/// Emulated exactly where a test forced the tier on a CPU without it (see <see cref="KernelTiers.EmulateVariable"/>).
/// </summary>
internal readonly unsafe struct DpDot : IInterleavedDot
{
    public static int Q8_0Offset => 0;

    public static bool EightAtOnce => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot(Vector256<int> acc, Vector256<byte> u, byte* x) => Q8_0(acc, u, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Q8_0(Vector256<int> acc, Vector256<byte> w, byte* x)
    {
        var a = Vector128.Create(*(int*)x).AsSByte();
        return Vector256.Create(Sdot(acc.GetLower(), w.GetLower().AsSByte(), a), Sdot(acc.GetUpper(), w.GetUpper().AsSByte(), a));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Q4_0(Vector256<int> acc, Vector256<byte> low, Vector256<byte> high, byte* x) =>
        Q8_0(Q8_0(acc, low, x), high, x + 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Widen(Vector256<int> partial) => partial;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Accumulate(Vector256<float> acc, Vector256<float> scale, Vector256<int> dot) =>
        PortableDot.Accumulate(acc, scale, dot);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Scales(byte* w) => PortableDot.Scales(w);

    /// <summary><c>sdot</c>, or its emulation (the JIT keeps one of the two: <c>IsSupported</c> is a constant to it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Sdot(Vector128<int> acc, Vector128<sbyte> left, Vector128<sbyte> right) =>
        Dp.IsSupported ? Dp.DotProduct(acc, left, right) : ByteDotEmulation.DotProduct(acc, left, right);
}
