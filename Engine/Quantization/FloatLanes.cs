using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fathom.Engine.Quantization;

/// <summary>
/// One vector width of f32 lanes, so <see cref="WidenedMatMul"/> is written once and compiled per tier (the JIT
/// specializes generic code over value types, and the static members inline). Loads take raw pointers and read
/// exactly <see cref="Count"/> elements.
/// </summary>
internal unsafe interface IFloatLanes<TVector>
    where TVector : struct
{
    static abstract int Count { get; }

    static abstract TVector Zero { get; }

    static abstract TVector Load(float* p);

    static abstract void Store(TVector v, float* p);

    /// <summary>
    /// <see cref="Count"/> F16 values as floats, exactly for every finite value (subnormals included); infinities and
    /// NaNs come out finite, as no trained weight holds them. Four operations: the halves sign-extended, shifted into
    /// f32 position with the three bits above the exponent cleared (the value times 2^−112, sign in place), then one
    /// multiply by 2^112. F16C's <c>vcvtph2ps</c> would be one, but .NET exposes none.
    /// </summary>
    static abstract TVector LoadHalf(ushort* p);

    /// <summary><see cref="LoadHalf"/> without its last multiply: the values times 2^−112, exactly.</summary>
    static abstract TVector LoadHalfScaled(ushort* p);

    /// <summary><see cref="Count"/> BF16 values as floats (exact: the top half of an f32).</summary>
    static abstract TVector LoadBFloat(ushort* p);

    /// <summary>
    /// <see cref="Count"/> FP8 e4m3 bytes as their values times 2^−120, exactly (subnormals included): each byte
    /// sign-extended, shifted so its seven magnitude bits sit at f32 bits 26..20 (the e4m3 exponent, bias 7, in the
    /// low bits of f32's, bias 127), and masked to those and the sign. Three operations, no table.
    /// </summary>
    static abstract TVector LoadFp8Scaled(byte* p);

    /// <summary><c>a·b + c</c>, rounded once.</summary>
    static abstract TVector MultiplyAdd(TVector a, TVector b, TVector c);

    static abstract float Sum(TVector v);
}

/// <summary>Constants of <see cref="IFloatLanes{TVector}.LoadHalf"/>.</summary>
internal static class HalfBits
{
    /// <summary>Sign bit, then the five exponent and ten mantissa bits of a half moved up 13 places.</summary>
    public const int Mask = unchecked((int)0x8FFFE000);

    /// <summary>2^112: moves an f16 exponent (bias 15) to f32's (bias 127).</summary>
    public const float Scale = 5.192297e33f;
}

/// <summary>Constants of <see cref="IFloatLanes{TVector}.LoadFp8Scaled"/>.</summary>
internal static class Fp8Bits
{
    /// <summary>The sign bit and e4m3's seven magnitude bits moved up 20 places.</summary>
    public const int Mask = unchecked((int)0x87F00000);

    /// <summary>2^64, by which the activations are stored: products v·2^−120 · a·2^64 stay normal for any real activation.</summary>
    public const float ActivationScale = 18446744073709551616f;

    /// <summary>2^56, folded into each row's scale: 2^120 / 2^64.</summary>
    public const float RowScale = 72057594037927936f;
}

/// <summary>512-bit lanes (the AVX-512 tier).</summary>
internal readonly unsafe struct Lanes512 : IFloatLanes<Vector512<float>>
{
    public static int Count => 16;

    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load(float* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<float> v, float* p) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadHalf(ushort* p) => LoadHalfScaled(p) * Vector512.Create(HalfBits.Scale);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadHalfScaled(ushort* p) =>
        ((Vector512.WidenLower(Vector256.Load((short*)p).ToVector512Unsafe()) << 13) & Vector512.Create(HalfBits.Mask)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadBFloat(ushort* p) => Vector512.ShiftLeft(Vector512.WidenLower(Vector256.Load(p).ToVector512Unsafe()), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadFp8Scaled(byte* p) =>
        ((Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)p)) << 20) & Vector512.Create(Fp8Bits.Mask)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector512<float> v) => Vector512.Sum(v);
}

/// <summary>256-bit lanes (the AVX2 and AVX-VNNI tiers).</summary>
internal readonly unsafe struct Lanes256 : IFloatLanes<Vector256<float>>
{
    public static int Count => 8;

    public static Vector256<float> Zero => Vector256<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<float> v, float* p) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadHalf(ushort* p) => LoadHalfScaled(p) * Vector256.Create(HalfBits.Scale);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadHalfScaled(ushort* p) =>
        ((Vector256.WidenLower(Vector128.Load((short*)p).ToVector256Unsafe()) << 13) & Vector256.Create(HalfBits.Mask)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadBFloat(ushort* p) => Vector256.ShiftLeft(Vector256.WidenLower(Vector128.Load(p).ToVector256Unsafe()), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadFp8Scaled(byte* p) =>
        ((Avx2.ConvertToVector256Int32((sbyte*)p) << 20) & Vector256.Create(Fp8Bits.Mask)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> v) => Vector256.Sum(v);
}

/// <summary>128-bit lanes: the portable tier (ARM64 AdvSimd; SSE on an x64 with AVX2 off).</summary>
internal readonly unsafe struct Lanes128 : IFloatLanes<Vector128<float>>
{
    public static int Count => 4;

    public static Vector128<float> Zero => Vector128<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Load(float* p) => Vector128.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<float> v, float* p) => v.Store(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadHalf(ushort* p) => LoadHalfScaled(p) * Vector128.Create(HalfBits.Scale);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadHalfScaled(ushort* p) =>
        ((Vector128.WidenLower(Vector64.Load((short*)p).ToVector128Unsafe()) << 13) & Vector128.Create(HalfBits.Mask)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadBFloat(ushort* p) => Vector128.ShiftLeft(Vector128.WidenLower(Vector64.Load(p).ToVector128Unsafe()), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> LoadFp8Scaled(byte* p) =>
        ((Vector128.WidenLower(Vector128.WidenLower(Vector128.CreateScalar(*(int*)p).AsSByte())) << 20) & Vector128.Create(Fp8Bits.Mask)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.FusedMultiplyAdd(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector128<float> v) => Vector128.Sum(v);
}

/// <summary>
/// How a weight row stores its elements: the vector load of a lane width at element
/// <c>i</c>, and the scalar value of element <c>i</c>; both exact.
/// </summary>
internal unsafe interface IWeightElements
{
    /// <summary>Bytes per stored element.</summary>
    static abstract int ElementBytes { get; }

    static abstract TVector Load<TLanes, TVector>(byte* row, int i)
        where TLanes : IFloatLanes<TVector>
        where TVector : struct;

    static abstract float Element(byte* row, int i);
}

/// <summary>F32 weights (also a panel of F16/BF16 rows already converted).</summary>
internal readonly unsafe struct F32Elements : IWeightElements
{
    public static int ElementBytes => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Load<TLanes, TVector>(byte* row, int i)
        where TLanes : IFloatLanes<TVector>
        where TVector : struct => TLanes.Load((float*)row + i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Element(byte* row, int i) => ((float*)row)[i];
}

/// <summary>F16 weights, converted in registers.</summary>
internal readonly unsafe struct F16Elements : IWeightElements
{
    public static int ElementBytes => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Load<TLanes, TVector>(byte* row, int i)
        where TLanes : IFloatLanes<TVector>
        where TVector : struct => TLanes.LoadHalf((ushort*)row + i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Element(byte* row, int i)
    {
        // The scalar form of LoadHalf (so a row's tail converts as its vector part does).
        var bits = (((int)((short*)row)[i]) << 13) & HalfBits.Mask;
        return BitConverter.Int32BitsToSingle(bits) * HalfBits.Scale;
    }
}

/// <summary>
/// F16 weights times 2^−112, for activations stored times 2^112 (<see cref="WidenedMatMul"/>'s decode): each product,
/// and so every fused multiply-add, is exactly the one <see cref="F16Elements"/> gives, one multiply per vector cheaper.
/// </summary>
internal readonly unsafe struct F16ScaledElements : IWeightElements
{
    public static int ElementBytes => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Load<TLanes, TVector>(byte* row, int i)
        where TLanes : IFloatLanes<TVector>
        where TVector : struct => TLanes.LoadHalfScaled((ushort*)row + i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Element(byte* row, int i) => BitConverter.Int32BitsToSingle((((int)((short*)row)[i]) << 13) & HalfBits.Mask);
}

/// <summary>BF16 weights, converted in registers.</summary>
internal readonly unsafe struct BF16Elements : IWeightElements
{
    public static int ElementBytes => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Load<TLanes, TVector>(byte* row, int i)
        where TLanes : IFloatLanes<TVector>
        where TVector : struct => TLanes.LoadBFloat((ushort*)row + i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Element(byte* row, int i) => BitConverter.UInt32BitsToSingle((uint)((ushort*)row)[i] << 16);
}

/// <summary>
/// FP8 e4m3 bytes as their values times 2^−120 (<see cref="IFloatLanes{TVector}.LoadFp8Scaled"/>), for activations
/// stored times 2^64 (<see cref="WidenedMatMul"/>'s FP8 rows).
/// </summary>
internal readonly unsafe struct Fp8ScaledElements : IWeightElements
{
    public static int ElementBytes => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVector Load<TLanes, TVector>(byte* row, int i)
        where TLanes : IFloatLanes<TVector>
        where TVector : struct => TLanes.LoadFp8Scaled(row + i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Element(byte* row, int i) => BitConverter.Int32BitsToSingle((((int)((sbyte*)row)[i]) << 20) & Fp8Bits.Mask);
}
