using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Fathom.Engine.Quantization;

/// <summary>
/// Every fp16 bit pattern as a float (256 KiB). .NET exposes no F16C instruction, and software conversion of the
/// per-block scales would cost as much as the block's integer dot.
/// </summary>
internal static class HalfTable
{
    private static readonly float[] Values = Build();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float Get(byte* p) =>
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(Values), *(ushort*)p);

    private static float[] Build()
    {
        var values = new float[65536];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)BitConverter.UInt16BitsToHalf((ushort)i);
        }

        return values;
    }
}
