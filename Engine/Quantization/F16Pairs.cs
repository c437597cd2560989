using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Fathom.Engine.Quantization;

/// <summary>
/// Halves converted to floats in pair order: each chunk of 2·w halves (w = floats per vector on this CPU) becomes its w
/// even-indexed values, then its w odd-indexed ones. Two halves share a 32-bit lane, so splitting them costs one shift
/// where the natural order costs a widening shuffle per vector, and finite values (the common case, checked 2·w at a
/// time) skip the infinity/NaN patch: about half the work of <see cref="F16.ToSingle(ReadOnlySpan{ushort}, Span{float})"/>
/// per value, for the same exact floats. A dot product or weighted sum over such rows is taken against vectors
/// permuted the same way (<see cref="Split"/>, <see cref="Join"/>): the attention's K/V rows.
/// </summary>
internal static unsafe class F16Pairs
{
    /// <summary>Halves per chunk (2·w), or 0 where there are no vector instructions and the order is not used.</summary>
    public static int Chunk { get; } =
        Vector512.IsHardwareAccelerated ? 32 : Vector256.IsHardwareAccelerated ? 16 : Vector128.IsHardwareAccelerated ? 8 : 0;

    /// <summary>Whether rows of <paramref name="n"/> elements can be held in pair order.</summary>
    public static bool Fits(int n) => Chunk > 0 && n % Chunk == 0;

    /// <summary>
    /// Converts <paramref name="n"/> halves (a multiple of <see cref="Chunk"/>, unchecked: it runs per cache row) to floats
    /// in pair order, exactly.
    /// // source (n) → destination (n / Chunk, [even w, odd w])
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ToSingle(ushort* source, float* destination, int n)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            for (var i = 0; i < n; i += 32)
            {
                var d = Vector512.Load((uint*)(source + i));
                if (Vector512.EqualsAny((d & Vector512.Create(0x7C007C00u)).AsUInt16(), Vector512.Create((ushort)0x7C00)))
                {
                    F16.Convert512(d & Vector512.Create(0xFFFFu)).Store(destination + i);
                    F16.Convert512(d >> 16).Store(destination + i + 16);
                }
                else
                {
                    F16.Finite512(d << 16).Store(destination + i);
                    F16.Finite512(d).Store(destination + i + 16);
                }
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (var i = 0; i < n; i += 16)
            {
                var d = Vector256.Load((uint*)(source + i));
                if (Vector256.EqualsAny((d & Vector256.Create(0x7C007C00u)).AsUInt16(), Vector256.Create((ushort)0x7C00)))
                {
                    F16.Convert256(d & Vector256.Create(0xFFFFu)).Store(destination + i);
                    F16.Convert256(d >> 16).Store(destination + i + 8);
                }
                else
                {
                    F16.Finite256(d << 16).Store(destination + i);
                    F16.Finite256(d).Store(destination + i + 8);
                }
            }
        }
        else
        {
            for (var i = 0; i < n; i += 8)
            {
                var d = Vector128.Load((uint*)(source + i));
                if (Vector128.EqualsAny((d & Vector128.Create(0x7C007C00u)).AsUInt16(), Vector128.Create((ushort)0x7C00)))
                {
                    F16.Convert128(d & Vector128.Create(0xFFFFu)).Store(destination + i);
                    F16.Convert128(d >> 16).Store(destination + i + 4);
                }
                else
                {
                    F16.Finite128(d << 16).Store(destination + i);
                    F16.Finite128(d).Store(destination + i + 4);
                }
            }
        }
    }

    /// <summary>Copies <paramref name="n"/> floats (a multiple of <see cref="Chunk"/>) into pair order. // source (n) → destination (n)</summary>
    public static void Split(float* source, float* destination, int n)
    {
        ThrowUnlessFits(n);
        var w = Chunk / 2;
        for (var c = 0; c < n; c += Chunk)
        {
            for (var j = 0; j < w; j++)
            {
                destination[c + j] = source[c + (2 * j)];
                destination[c + w + j] = source[c + (2 * j) + 1];
            }
        }
    }

    /// <summary>Copies <paramref name="n"/> floats in pair order back into natural order, each times <paramref name="scale"/>. // source (n) → destination (n)</summary>
    public static void Join(float* source, float* destination, int n, float scale)
    {
        ThrowUnlessFits(n);
        var w = Chunk / 2;
        for (var c = 0; c < n; c += Chunk)
        {
            for (var j = 0; j < w; j++)
            {
                destination[c + (2 * j)] = source[c + j] * scale;
                destination[c + (2 * j) + 1] = source[c + w + j] * scale;
            }
        }
    }

    private static void ThrowUnlessFits(int n)
    {
        if (!Fits(n))
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, $"pair order needs a multiple of {Chunk} elements and vector instructions");
        }
    }
}
