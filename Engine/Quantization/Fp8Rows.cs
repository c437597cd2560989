using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fathom.Engine.Quantization;

/// <summary>
/// The engine's layout for FP8 e4m3 checkpoint weights (<c>compressed-tensors</c> <c>float-quantized</c>, FBGEMM FP8):
/// each row is its f32 scale (the tensor's scale repeated per row for per-tensor checkpoints, the row's own for
/// per-channel ones) followed by the row's <c>n</c> e4m3 bytes exactly as published. Weight = e4m3 value · scale,
/// one f32 product per element.
/// </summary>
public static unsafe class Fp8Rows
{
    /// <summary>Bytes before the row's e4m3 values (the f32 scale).</summary>
    public const int HeaderBytes = 4;

    /// <summary>Bytes of one row of <paramref name="n"/> elements.</summary>
    public static long RowBytes(long n) => HeaderBytes + n;

    /// <summary>The scalar reference: element j = <see cref="Fp8E4M3.ToSingle"/>(q[j]) · scale.</summary>
    public static void Dequantize(ReadOnlySpan<byte> source, Span<float> destination, int n)
    {
        QuantGuard.BlockCount(n, 1, nameof(Fp8Rows));
        QuantGuard.AtLeast(source.Length, RowBytes(n), "source (bytes)", nameof(Fp8Rows), nameof(source));
        QuantGuard.AtLeast(destination.Length, n, "destination", nameof(Fp8Rows), nameof(destination));
        var scale = BitConverter.ToSingle(source);
        for (var j = 0; j < n; j++)
        {
            destination[j] = Fp8E4M3.ToSingle(source[HeaderBytes + j]) * scale;
        }
    }

    /// <summary>
    /// Quantizes one row as the per-channel FP8 quantizers do: scale = max|x|/448 (1 for an all-zero row),
    /// q = e4m3(x/scale).
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> source, Span<byte> destination, int n)
    {
        QuantGuard.BlockCount(n, 1, nameof(Fp8Rows));
        QuantGuard.AtLeast(source.Length, n, "source", nameof(Fp8Rows), nameof(source));
        QuantGuard.AtLeast(destination.Length, RowBytes(n), "destination (bytes)", nameof(Fp8Rows), nameof(destination));
        var amax = 0f;
        for (var j = 0; j < n; j++)
        {
            amax = Math.Max(amax, MathF.Abs(source[j]));
        }

        var scale = amax > 0 ? amax / Fp8E4M3.MaxFinite : 1f;
        BitConverter.TryWriteBytes(destination, scale);
        for (var j = 0; j < n; j++)
        {
            destination[HeaderBytes + j] = Fp8E4M3.FromSingle(source[j] / scale);
        }
    }

    /// <summary>Writes one row: the scale, then the e4m3 bytes.</summary>
    public static void WriteRow(float scale, ReadOnlySpan<byte> values, Span<byte> destination)
    {
        QuantGuard.AtLeast(destination.Length, RowBytes(values.Length), "destination (bytes)", nameof(Fp8Rows), nameof(destination));
        BitConverter.TryWriteBytes(destination, scale);
        values.CopyTo(destination[HeaderBytes..]);
    }

    /// <summary>
    /// Decodes a row with the widest tier <see cref="KernelTiers.Current"/> allows, bit-identical to
    /// <see cref="Dequantize"/> for every byte but the NaN codes (which loading rejects).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Decode(byte* row, float* y, int n) => Decode(row, y, n, KernelTiers.Current);

    /// <summary>Decodes with the kernels of <paramref name="tier"/> (which this process must support).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Decode(byte* row, float* y, int n, KernelTier tier)
    {
        var scale = *(float*)row;
        var q = row + HeaderBytes;
        var i = 0;
        // The magnitude bits moved into f32 position read as v·2^-120 (subnormals included), so one exact multiply
        // by 2^120 restores v; the sign bit goes straight to bit 31. Then one rounding: v·scale, as the reference.
        if (tier >= KernelTier.Avx512 && Avx512F.IsSupported)
        {
            var s = Vector512.Create(scale);
            var restore = Vector512.Create(0x7B800000u).AsSingle();
            for (; i + 16 <= n; i += 16)
            {
                var b = Avx512F.ConvertToVector512Int32(Vector128.Load(q + i)).AsUInt32();
                var bits = ((b & Vector512.Create(0x7Fu)) << 20) | ((b & Vector512.Create(0x80u)) << 24);
                Vector512.Store(bits.AsSingle() * restore * s, y + i);
            }
        }
        else if (tier >= KernelTier.Avx2 && Avx2.IsSupported)
        {
            var s = Vector256.Create(scale);
            var restore = Vector256.Create(0x7B800000u).AsSingle();
            for (; i + 8 <= n; i += 8)
            {
                var b = Avx2.ConvertToVector256Int32(Vector128.CreateScalar(*(ulong*)(q + i)).AsByte()).AsUInt32();
                var bits = ((b & Vector256.Create(0x7Fu)) << 20) | ((b & Vector256.Create(0x80u)) << 24);
                Vector256.Store(bits.AsSingle() * restore * s, y + i);
            }
        }
        else if (tier >= KernelTier.Vector128 && Vector128.IsHardwareAccelerated)
        {
            var s = Vector128.Create(scale);
            var restore = Vector128.Create(0x7B800000u).AsSingle();
            for (; i + 4 <= n; i += 4)
            {
                var b = Vector128.WidenLower(Vector128.WidenLower(Vector128.CreateScalar(*(uint*)(q + i)).AsByte()));
                var bits = ((b & Vector128.Create(0x7Fu)) << 20) | ((b & Vector128.Create(0x80u)) << 24);
                Vector128.Store(bits.AsSingle() * restore * s, y + i);
            }
        }

        for (; i < n; i++)
        {
            y[i] = Fp8E4M3.ToSingle(q[i]) * scale;
        }
    }
}
