using System.Runtime.CompilerServices;
using Fathom.Engine.Quantization;

namespace Fathom.Engine.Backends;

/// <summary>
/// Exact conversions of F16 and BF16 rows to f32 for the backends, over raw pointers. The vector code lives in
/// <see cref="F16"/> and <see cref="BF16"/> (one place, shared with the matmul kernels, so a weight converted here
/// and one converted inside a kernel are the same float).
/// </summary>
internal static unsafe class HalfConversion
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void HalfToSingle(ushort* source, float* destination, int n) => F16.ToSingle(source, destination, n);

    public static void BFloat16ToSingle(ushort* source, float* destination, int n) =>
        BF16.ToSingle(new ReadOnlySpan<ushort>(source, n), new Span<float>(destination, n));
}
