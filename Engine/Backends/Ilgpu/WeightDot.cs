using ILGPU;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// Device-side dot products of one weight row (GGUF layout) with up to four input rows, written for memory
/// bandwidth: a row is cut into <em>units</em> (a fixed share of one quant block), lane l of a warp takes units
/// l, l + warp, …, so neighbouring lanes read neighbouring bytes of the same or the next block, and every weight
/// load is an aligned 32-bit word. Blocks whose size is only a multiple of 2 bytes (Q8_0 34, Q4_0 18, Q6_K 210)
/// start on a 2-byte boundary half the time: a lane then reads the aligned words around its bytes and
/// funnel-shifts them (<see cref="Bytes4"/>). Weight buffers must be padded to a multiple of 4 bytes.
/// </summary>
internal static class WeightDot
{
    /// <summary>Units per quant block (lanes that share one block): Q8_0 and Q4_0 8 quants each, Q4_K and Q6_K 32.</summary>
    public static int UnitsPerBlock(int type) => type switch
    {
        WeightDecode.Q8_0 or WeightDecode.Q4_0 or WeightDecode.Int4ZeroPoint => 4,
        WeightDecode.Q4K or WeightDecode.Q6K => 8,
        _ => 1,
    };

    /// <summary>Elements per unit: one f32, one 32-bit pair of f16/bf16, or a share of a block.</summary>
    public static int ElementsPerUnit(int type) => type switch
    {
        WeightDecode.F32 => 1,
        WeightDecode.F16 or WeightDecode.BF16 => 2,
        WeightDecode.Q8_0 or WeightDecode.Q4_0 or WeightDecode.Int4ZeroPoint => 8,
        WeightDecode.Fp8Rows => 4,
        _ => 32,
    };

    /// <summary>
    /// This lane's partial dots of the weight row starting at byte <paramref name="rowByte"/> (even; 4-aligned for
    /// F32, F16, BF16, Q4_K) with the <paramref name="take"/> input rows starting at element <paramref name="x0"/>.
    /// </summary>
    public static Acc4 Lane(ArrayView<uint> words, int type, long rowByte, ArrayView<float> x, long x0, int k, int take, int lane, int warp)
    {
        var acc = default(Acc4);
        if (type == WeightDecode.Fp8Rows)
        {
            return Fp8Row(words, rowByte, x, x0, k, take, lane, warp);
        }

        var units = k / ElementsPerUnit(type);
        for (var u = lane; u < units; u += warp)
        {
            switch (type)
            {
                case WeightDecode.F32:
                    acc = acc.Add(Interop.IntAsFloat(words[(rowByte >> 2) + u]), x, x0, k, take, u);
                    break;
                case WeightDecode.F16:
                {
                    var pair = words[(rowByte >> 2) + u];
                    acc = acc.Add(WeightDecode.HalfToSingleCvt(pair & 0xFFFF), x, x0, k, take, 2 * u);
                    acc = acc.Add(WeightDecode.HalfToSingleCvt(pair >> 16), x, x0, k, take, (2 * u) + 1);
                    break;
                }

                case WeightDecode.BF16:
                {
                    var pair = words[(rowByte >> 2) + u];
                    acc = acc.Add(Interop.IntAsFloat(pair << 16), x, x0, k, take, 2 * u);
                    acc = acc.Add(Interop.IntAsFloat(pair & 0xFFFF0000u), x, x0, k, take, (2 * u) + 1);
                    break;
                }

                case WeightDecode.Q8_0:
                    acc = Q8_0(words, rowByte + (34L * (u >> 2)), u & 3, x, x0, k, take, (u >> 2) * 32, acc);
                    break;
                case WeightDecode.Q4_0:
                    acc = Q4_0(words, rowByte + (18L * (u >> 2)), u & 3, x, x0, k, take, (u >> 2) * 32, acc);
                    break;
                case WeightDecode.Int4ZeroPoint:
                    acc = Int4ZeroPoint(words, rowByte + (20L * (u >> 2)), u & 3, x, x0, k, take, (u >> 2) * 32, acc);
                    break;
                case WeightDecode.Q4K:
                    acc = Q4K(words, rowByte + (144L * (u >> 3)), u & 7, x, x0, k, take, (u >> 3) * 256, acc);
                    break;
                case WeightDecode.Q6K:
                    acc = Q6K(words, rowByte + (210L * (u >> 3)), u & 7, x, x0, k, take, (u >> 3) * 256, acc);
                    break;
            }
        }

        return acc;
    }

    /// <summary>
    /// Q8_0 block (f16 d, 32 × i8): unit p holds quants 8p .. 8p+7, read as two (funnel-shifted) words; the scale
    /// multiplies the unit's partial sum once.
    /// </summary>
    private static Acc4 Q8_0(ArrayView<uint> words, long block, int p, ArrayView<float> x, long x0, int k, int take, int e0, Acc4 acc)
    {
        var d = WeightDecode.HalfToSingleCvt(Half16(words, block));
        var lo = Bytes4(words, block + 2 + (8 * p));
        var hi = Bytes4(words, block + 6 + (8 * p));
        var e = e0 + (8 * p);
        var part = default(Acc4);
        for (var i = 0; i < 4; i++)
        {
            part = part.Add((sbyte)(lo >> (8 * i)), x, x0, k, take, e + i);
            part = part.Add((sbyte)(hi >> (8 * i)), x, x0, k, take, e + 4 + i);
        }

        return acc.AddScaled(part, d);
    }

    /// <summary>Q4_0 block (f16 d, 16 bytes of nibbles): unit p holds bytes 4p .. 4p+3, i.e. quants 4p.. (low) and 16+4p.. (high).</summary>
    private static Acc4 Q4_0(ArrayView<uint> words, long block, int p, ArrayView<float> x, long x0, int k, int take, int e0, Acc4 acc)
    {
        var d = WeightDecode.HalfToSingleCvt(Half16(words, block));
        var q = Bytes4(words, block + 2 + (4 * p));
        var e = e0 + (4 * p);
        var part = default(Acc4);
        for (var i = 0; i < 4; i++)
        {
            var b = (int)((q >> (8 * i)) & 0xFF);
            part = part.Add((b & 0xF) - 8, x, x0, k, take, e + i);
            part = part.Add((b >> 4) - 8, x, x0, k, take, e + 16 + i);
        }

        return acc.AddScaled(part, d);
    }

    /// <summary>
    /// Int4ZeroPoint block (f16 s, zero byte, pad, 16 bytes of nibbles; 4-aligned): unit p holds bytes 4p .. 4p+3 of
    /// the nibbles, quants 4p.. (low) and 16+4p.. (high); the scale multiplies the unit's partial sum once.
    /// </summary>
    private static Acc4 Int4ZeroPoint(ArrayView<uint> words, long block, int p, ArrayView<float> x, long x0, int k, int take, int e0, Acc4 acc)
    {
        var header = words[block >> 2];
        var s = WeightDecode.HalfToSingleCvt(header & 0xFFFF);
        var z = (int)((header >> 16) & 0xFF);
        var q = words[(block >> 2) + 1 + p];
        var e = e0 + (4 * p);
        var part = default(Acc4);
        for (var i = 0; i < 4; i++)
        {
            var b = (int)((q >> (8 * i)) & 0xFF);
            part = part.Add((b & 0xF) - z, x, x0, k, take, e + i);
            part = part.Add((b >> 4) - z, x, x0, k, take, e + 16 + i);
        }

        return acc.AddScaled(part, s);
    }

    /// <summary>
    /// Fp8Rows row (f32 scale, then k e4m3 bytes; 4-aligned when k is a multiple of 4): lane l takes words l, l + warp,
    /// … of four weights each; the row's scale multiplies the lane's partial sum once at the end.
    /// </summary>
    private static Acc4 Fp8Row(ArrayView<uint> words, long rowByte, ArrayView<float> x, long x0, int k, int take, int lane, int warp)
    {
        var first = (rowByte >> 2) + 1;
        var part = default(Acc4);
        for (var u = lane; u < k >> 2; u += warp)
        {
            var q = words[first + u];
            for (var i = 0; i < 4; i++)
            {
                part = part.Add(WeightDecode.Fp8ToSingle((q >> (8 * i)) & 0xFF), x, x0, k, take, (4 * u) + i);
            }
        }

        return default(Acc4).AddScaled(part, Interop.IntAsFloat(words[rowByte >> 2]));
    }

    /// <summary>
    /// Q4_K superblock (f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles; 16-byte aligned):
    /// unit p reads 16 nibble bytes (4 words) of chunk p/2 — 16 weights of sub-block 2·(p/2) and 16 of the next —
    /// and the 4 header words. Weights are decoded exactly as the host does before the product.
    /// </summary>
    private static Acc4 Q4K(ArrayView<uint> words, long block, int p, ArrayView<float> x, long x0, int k, int take, int e0, Acc4 acc)
    {
        var w = block >> 2;
        var header = words[w];
        var d = WeightDecode.HalfToSingleCvt(header & 0xFFFF);
        var dmin = WeightDecode.HalfToSingleCvt(header >> 16);
        var s0 = words[w + 1];
        var s1 = words[w + 2];
        var s2 = words[w + 3];
        var chunk = p >> 1;
        var (scaleLo, minLo, scaleHi, minHi) = Q4KScales(s0, s1, s2, chunk);
        var l0 = 16 * (p & 1);
        var e = e0 + (64 * chunk) + l0;
        var q0 = w + 4 + (8 * chunk) + (l0 >> 2);
        for (var i = 0; i < 4; i++)
        {
            var q = words[q0 + i];
            for (var b = 0; b < 4; b++)
            {
                var bits = (int)(q >> (8 * b));
                var low = bits & 0xF;
                var high = (bits >> 4) & 0xF;
                acc = acc.Add((d * scaleLo * low) - (dmin * minLo), x, x0, k, take, e + (4 * i) + b);
                acc = acc.Add((d * scaleHi * high) - (dmin * minHi), x, x0, k, take, e + 32 + (4 * i) + b);
            }
        }

        return acc;
    }

    /// <summary>
    /// The 6-bit scales and mins of Q4_K sub-blocks 2·chunk (Lo) and 2·chunk + 1 (Hi) from the three scale words.
    /// </summary>
    public static (int ScaleLo, int MinLo, int ScaleHi, int MinHi) Q4KScales(uint s0, uint s1, uint s2, int chunk)
    {
        var j = 2 * chunk;
        if (chunk < 2)
        {
            // Sub-blocks 0..3: 6-bit scale in byte j, min in byte j + 4.
            return ((int)(s0 >> (8 * j)) & 63, (int)(s1 >> (8 * j)) & 63, (int)(s0 >> (8 * (j + 1))) & 63, (int)(s1 >> (8 * (j + 1))) & 63);
        }

        // Sub-blocks 4..7: low 4 bits in byte j + 4, high 2 bits in the top of bytes j - 4 (scale) and j (min).
        var jj = j - 4;
        return (
            (int)((s2 >> (8 * jj)) & 0xF) | (int)(((s0 >> (8 * jj)) >> 6) & 3) << 4,
            (int)((s2 >> (8 * jj)) >> 4 & 0xF) | (int)(((s1 >> (8 * jj)) >> 6) & 3) << 4,
            (int)((s2 >> (8 * (jj + 1))) & 0xF) | (int)(((s0 >> (8 * (jj + 1))) >> 6) & 3) << 4,
            (int)((s2 >> (8 * (jj + 1))) >> 4 & 0xF) | (int)(((s1 >> (8 * (jj + 1))) >> 6) & 3) << 4);
    }

    /// <summary>
    /// Q6_K superblock (128 bytes low nibbles, 64 bytes high 2-bit pairs, 16 i8 scales, f16 d; 2-byte aligned):
    /// unit p covers half h = p/4, positions l = 8·(p%4) .. +7 of all four quarters, reading 8 bytes of each ql
    /// run, 8 bytes of qh and its 4 scales, all as funnel-shifted words.
    /// </summary>
    private static Acc4 Q6K(ArrayView<uint> words, long block, int p, ArrayView<float> x, long x0, int k, int take, int e0, Acc4 acc)
    {
        var h = p >> 2;
        var l0 = 8 * (p & 3);
        var d = WeightDecode.HalfToSingleCvt(Half16(words, block + 208));
        // Scale of (quarter q, position l) is byte 192 + 8h + 2q + l/16: byte (p & 3) / 2 of the even pair at 2q.
        var scales = Bytes4(words, block + 192 + (8 * h)) | ((ulong)Bytes4(words, block + 196 + (8 * h)) << 32);
        var pick = (p & 3) >> 1;
        var e = e0 + (128 * h) + l0;
        for (var g = 0; g < 2; g++)
        {
            var qa = Bytes4(words, block + (64 * h) + l0 + (4 * g));      // quarters 0 (low) and 2 (high)
            var qb = Bytes4(words, block + (64 * h) + 32 + l0 + (4 * g)); // quarters 1 and 3
            var qh = Bytes4(words, block + 128 + (32 * h) + l0 + (4 * g));
            for (var q = 0; q < 4; q++)
            {
                var sc = d * (sbyte)((scales >> (8 * ((2 * q) + pick))) & 0xFF);
                var source = (q & 1) == 0 ? qa : qb;
                for (var b = 0; b < 4; b++)
                {
                    var bits = (int)(source >> (8 * b)) & 0xFF;
                    var low = q < 2 ? bits & 0xF : bits >> 4;
                    var high = (int)(qh >> ((8 * b) + (2 * q))) & 3;
                    acc = acc.Add(sc * ((low | (high << 4)) - 32), x, x0, k, take, e + (32 * q) + (4 * g) + b);
                }
            }
        }

        return acc;
    }

    /// <summary>The 16-bit value at an even byte offset: one aligned word load.</summary>
    public static uint Half16(ArrayView<uint> words, long offset) => (words[offset >> 2] >> (int)(8 * (offset & 2))) & 0xFFFF;

    /// <summary>The 4 bytes at an even byte offset, little-endian: one aligned word, or two funnel-shifted.</summary>
    public static uint Bytes4(ArrayView<uint> words, long offset)
    {
        var w0 = words[offset >> 2];
        return (offset & 2) == 0 ? w0 : (w0 >> 16) | (words[(offset >> 2) + 1] << 16);
    }
}

/// <summary>Partial dots of one weight row with up to four input rows (f32).</summary>
internal struct Acc4
{
    public float A0;
    public float A1;
    public float A2;
    public float A3;

    /// <summary>Adds w·x[r, e] for the first <paramref name="take"/> rows r of x (n, k) starting at element x0.</summary>
    public readonly Acc4 Add(float w, ArrayView<float> x, long x0, int k, int take, int e)
    {
        var r = this;
        var i = x0 + e;
        r.A0 += w * x[i];
        if (take > 1)
        {
            r.A1 += w * x[i + k];
            if (take > 2)
            {
                r.A2 += w * x[i + (2L * k)];
                if (take > 3)
                {
                    r.A3 += w * x[i + (3L * k)];
                }
            }
        }

        return r;
    }

    /// <summary>Adds <paramref name="value"/> to the partial of input row <paramref name="r"/> (0..3).</summary>
    public readonly Acc4 AddRow(int r, float value)
    {
        var a = this;
        if (r == 0)
        {
            a.A0 += value;
        }
        else if (r == 1)
        {
            a.A1 += value;
        }
        else if (r == 2)
        {
            a.A2 += value;
        }
        else
        {
            a.A3 += value;
        }

        return a;
    }

    /// <summary>this + scale · part, lane-wise.</summary>
    public readonly Acc4 AddScaled(Acc4 part, float scale)
    {
        var r = this;
        r.A0 += scale * part.A0;
        r.A1 += scale * part.A1;
        r.A2 += scale * part.A2;
        r.A3 += scale * part.A3;
        return r;
    }
}
