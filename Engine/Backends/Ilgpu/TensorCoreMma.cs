using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// One warp-wide <c>mma.sync.aligned.m16n8k16.row.col.f32.{f16,bf16}.{f16,bf16}.f32</c>: D (16×8, f32) = A (16×16)
/// · B (16×8) + C. On a CUDA device each call is the PTX instruction (inline, through <see cref="CudaAsm"/>); on any
/// other accelerator it is a C# emulation with the same fragment-to-lane mapping (PTX ISA, "Matrix Fragments for
/// mma.m16n8k16 with floating point type"), built from warp shuffles, so the tiling and indexing of the kernels that
/// call it run — and are tested — on ILGPU's CPU accelerator with a 32-lane warp. Every lane of the warp must call it
/// together, and the warp must have 32 lanes.
/// </summary>
/// <remarks>
/// Fragments, with g = lane / 4 and t = lane % 4; each 32-bit register holds two 16-bit values, the lower column (or
/// k) in the low half. A: a0 = (row g, k 2t..2t+1), a1 = (g + 8, 2t..), a2 = (g, 2t + 8..), a3 = (g + 8, 2t + 8..).
/// B: b0 = (k 2t..2t+1, column g), b1 = (k 2t + 8.., column g). C and D: c0, c1 = (row g, columns 2t, 2t + 1),
/// c2, c3 = (row g + 8, the same columns).
/// </remarks>
internal static class TensorCoreMma
{
    /// <summary>The accumulator fragment of one lane: <c>C0, C1</c> at row g, <c>C2, C3</c> at row g + 8.</summary>
    internal struct Fragment
    {
        public float C0;
        public float C1;
        public float C2;
        public float C3;
    }

    /// <summary>acc + A · B for one m16n8k16 tile; <paramref name="bf16"/> (uniform) selects bf16 inputs instead of f16.</summary>
    public static Fragment Mma(Fragment acc, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, bool bf16)
    {
        if (CudaAsm.IsSupported)
        {
            Ref<float> d0 = acc.C0;
            Ref<float> d1 = acc.C1;
            Ref<float> d2 = acc.C2;
            Ref<float> d3 = acc.C3;
            Input<uint> x0 = a0;
            Input<uint> x1 = a1;
            Input<uint> x2 = a2;
            Input<uint> x3 = a3;
            Input<uint> y0 = b0;
            Input<uint> y1 = b1;
            if (bf16)
            {
                CudaAsm.EmitRef(
                    "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};",
                    ref d0, ref d1, ref d2, ref d3, ref x0, ref x1, ref x2, ref x3, ref y0, ref y1);
            }
            else
            {
                CudaAsm.EmitRef(
                    "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};",
                    ref d0, ref d1, ref d2, ref d3, ref x0, ref x1, ref x2, ref x3, ref y0, ref y1);
            }

            return new Fragment { C0 = d0.Value, C1 = d1.Value, C2 = d2.Value, C3 = d3.Value };
        }

        return Emulate(acc, a0, a1, a2, a3, b0, b1, bf16);
    }

    /// <summary>
    /// The same product from shuffles: lane (g, t) needs row g and g + 8 of A, held by lanes 4g .. 4g + 3, and columns
    /// 2t and 2t + 1 of B, held by lanes 8t .. 8t + 3 and 8t + 4 .. 8t + 7. Products of two 16-bit floats are exact
    /// in f32; the sum runs over k in order (the hardware's order and intermediate precision are unspecified).
    /// </summary>
    private static Fragment Emulate(Fragment acc, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1, bool bf16)
    {
        var lane = Warp.LaneIdx;
        var g = lane >> 2;
        var t = lane & 3;
        var lo = new Fragment();
        var hi = new Fragment();
        for (var source = 0; source < 4; source++)
        {
            var rowLane = (4 * g) + source;
            var column0Lane = (8 * t) + source;
            var column1Lane = (8 * t) + 4 + source;
            var rowG = Warp.Shuffle(a0, rowLane);           // A[g, 2s..2s+1]
            var rowG8 = Warp.Shuffle(a1, rowLane);          // A[g + 8, 2s..]
            var rowGHigh = Warp.Shuffle(a2, rowLane);       // A[g, 2s + 8..]
            var rowG8High = Warp.Shuffle(a3, rowLane);      // A[g + 8, 2s + 8..]
            var column0 = Warp.Shuffle(b0, column0Lane);    // B[2s.., 2t]
            var column0High = Warp.Shuffle(b1, column0Lane); // B[2s + 8.., 2t]
            var column1 = Warp.Shuffle(b0, column1Lane);    // B[2s.., 2t + 1]
            var column1High = Warp.Shuffle(b1, column1Lane); // B[2s + 8.., 2t + 1]

            // Low k half (k = 2s, 2s + 1) first, then the high half (k = 2s + 8, 2s + 9), each summed in its own
            // partial so the k order within a half is ascending.
            lo.C0 += Dot2(rowG, column0, bf16);
            lo.C1 += Dot2(rowG, column1, bf16);
            lo.C2 += Dot2(rowG8, column0, bf16);
            lo.C3 += Dot2(rowG8, column1, bf16);
            hi.C0 += Dot2(rowGHigh, column0High, bf16);
            hi.C1 += Dot2(rowGHigh, column1High, bf16);
            hi.C2 += Dot2(rowG8High, column0High, bf16);
            hi.C3 += Dot2(rowG8High, column1High, bf16);
        }

        acc.C0 += lo.C0 + hi.C0;
        acc.C1 += lo.C1 + hi.C1;
        acc.C2 += lo.C2 + hi.C2;
        acc.C3 += lo.C3 + hi.C3;
        return acc;
    }

    private static float Dot2(uint a, uint b, bool bf16) =>
        (Low(a, bf16) * Low(b, bf16)) + (High(a, bf16) * High(b, bf16));

    private static float Low(uint pair, bool bf16) => bf16 ? Interop.IntAsFloat(pair << 16) : WeightDecode.HalfToSingle(pair & 0xFFFF);

    private static float High(uint pair, bool bf16) => bf16 ? Interop.IntAsFloat(pair & 0xFFFF0000u) : WeightDecode.HalfToSingle(pair >> 16);

    /// <summary>
    /// Two f32 values rounded to nearest even and packed as a 16-bit pair (<paramref name="low"/> in the low half):
    /// <c>cvt.rn.f16x2.f32</c> / <c>cvt.rn.bf16x2.f32</c> on CUDA, the same rounding in software elsewhere.
    /// </summary>
    public static uint Pack(float low, float high, bool bf16)
    {
        if (CudaAsm.IsSupported)
        {
            // The PTX operand order is (d, a, b) with a converted into the upper half.
            if (bf16)
            {
                CudaAsm.Emit("cvt.rn.bf16x2.f32 %0, %1, %2;", out uint packedBf16, high, low);
                return packedBf16;
            }

            CudaAsm.Emit("cvt.rn.f16x2.f32 %0, %1, %2;", out uint packed, high, low);
            return packed;
        }

        return bf16
            ? SingleToBFloat16Bits(low) | (SingleToBFloat16Bits(high) << 16)
            : SingleToHalfBits(low) | (SingleToHalfBits(high) << 16);
    }

    /// <summary>f32 to IEEE binary16 bits, round to nearest even (subnormals, overflow to infinity, NaN kept a NaN).</summary>
    public static uint SingleToHalfBits(float value)
    {
        var bits = (uint)Interop.FloatAsInt(value);
        var sign = (bits >> 16) & 0x8000u;
        var exponent = (int)((bits >> 23) & 0xFF);
        var mantissa = bits & 0x7FFFFFu;
        if (exponent == 0xFF)
        {
            return sign | 0x7C00u | (mantissa != 0 ? 0x200u : 0u);
        }

        var e = exponent - 112; // rebias 127 → 15
        if (e >= 31)
        {
            return sign | 0x7C00u;
        }

        if (e <= 0)
        {
            if (e < -10)
            {
                return sign; // below half the smallest subnormal (2^-25): rounds to zero
            }

            // Subnormal: the 24-bit significand shifted to units of 2^-24.
            var full = mantissa | 0x800000u;
            var shift = 14 - e;
            var half = full >> shift;
            var rest = full & ((1u << shift) - 1);
            var middle = 1u << (shift - 1);
            if (rest > middle || (rest == middle && (half & 1) != 0))
            {
                half++;
            }

            return sign | half;
        }

        var h = ((uint)e << 10) | (mantissa >> 13);
        var remainder = mantissa & 0x1FFFu;
        if (remainder > 0x1000u || (remainder == 0x1000u && (h & 1) != 0))
        {
            h++; // a carry into the exponent is the correct next binade (or infinity)
        }

        return sign | h;
    }

    /// <summary>f32 to bfloat16 bits, round to nearest even (NaN kept a NaN).</summary>
    public static uint SingleToBFloat16Bits(float value)
    {
        var bits = (uint)Interop.FloatAsInt(value);
        if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x7FFFFFu) != 0)
        {
            return (bits >> 16) | 0x40u;
        }

        return (bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16;
    }
}
