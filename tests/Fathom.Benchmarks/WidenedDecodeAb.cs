using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Fathom.Engine.Quantization;
using Fathom.Gguf;

namespace Fathom.Benchmarks;

/// <summary>
/// Batch-1 F16/BF16/FP8 matvec, in process: GB/s of the engine's decode kernel against a plain read of the same bytes and
/// against the pre-#21/#22 kernels (<see cref="LegacyWidenedDecode"/>, FP8 decoded row by row), and Q8_0 beside FP8, alternated round by round so machine load hits
/// both alike. <c>dotnet run -c Release --project tests/Fathom.Benchmarks -- widened-ab [rows] [columns] [rounds]</c>.
/// </summary>
internal static unsafe class WidenedDecodeAb
{
    public static void Run(string[] args)
    {
        var rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 8192;
        var columns = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2048;
        var rounds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 7;
        Console.WriteLine($"tier {KernelTiers.Name(KernelTiers.Current)}, {rows}x{columns}, {rounds} rounds (median GB/s of weight bytes)");
        var rng = new Random(1);
        var weights = (byte*)NativeMemory.AlignedAlloc((nuint)((long)rows * columns * 2), 64);
        var a = (float*)NativeMemory.AlignedAlloc((nuint)columns * 4, 64);
        var y = (float*)NativeMemory.AlignedAlloc((nuint)rows * 4, 64);
        var panel = (float*)NativeMemory.AlignedAlloc((nuint)columns * 4 * 4, 64);
        var q8 = new byte[Q8_0.RowBytes((long)rows * columns)];
        var activationsQ8 = new byte[Q8_0.RowBytes(columns)];
        Q8_0.Quantize(new ReadOnlySpan<float>(a, columns), activationsQ8, columns);
        var q8Row = Q8_0.RowBytes(columns);
        for (var r = 0; r < rows; r++)
        {
            var values = Enumerable.Range(0, columns).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
            Q8_0.Quantize(values, q8.AsSpan((int)(r * q8Row), (int)q8Row), columns);
        }

        for (var i = 0; i < columns; i++)
        {
            a[i] = (float)(rng.NextDouble() - 0.5);
        }

        var w = new float[columns];
        foreach (var type in new[] { GgmlType.F16, GgmlType.BF16, CheckpointTypes.Fp8Rows })
        {
            var rowBytes = CheckpointTypes.RowBytes(type, columns);
            for (long r = 0; r < rows; r++)
            {
                for (var i = 0; i < w.Length; i++)
                {
                    w[i] = (float)((rng.NextDouble() - 0.5) * 0.1);
                }

                var row = new Span<byte>(weights + (r * rowBytes), (int)rowBytes);
                switch (type)
                {
                    case GgmlType.F16: F16.Quantize(w, row, columns); break;
                    case GgmlType.BF16: BF16.Quantize(w, row, columns); break;
                    default: Fp8Rows.Quantize(w, row, columns); break;
                }
            }

            var variants = type == CheckpointTypes.Fp8Rows
                ? new (string Name, Action Run)[]
                {
                    ("read", () => Read(weights, rows * rowBytes)),
                    ("legacy", () => LegacyFp8(weights, rowBytes, columns, rows, a, y)),
                    ("engine", () => RowsInBlocks(type, weights, rowBytes, columns, rows, a, y, panel)),
                    ("q8_0", () => QuantMatMul.Q8_0(q8, rows, columns, activationsQ8, 1, new Span<float>(y, rows), rows)),
                }
                : new (string Name, Action Run)[]
                {
                    ("read", () => Read(weights, rows * rowBytes)),
                    ("legacy", () => LegacyWidenedDecode.Rows(type, weights, rowBytes, columns, 0, rows, a, y)),
                    ("engine", () => RowsInBlocks(type, weights, rowBytes, columns, rows, a, y, panel)),
                };
            // Every variant is charged the bytes of the type under test (Q8_0 reads 1.0625 per weight, FP8 1).
            var medians = MedianGBps(variants, rounds, rows * rowBytes);
            Console.WriteLine(
                CheckpointTypes.Name(type) + ": " + string.Join(", ", variants.Select((v, i) => $"{v.Name} {medians[i]:F1}"))
                + $" GB/s; engine/legacy {medians[2] / medians[1]:F2}x");
        }

        NativeMemory.AlignedFree(weights);
        NativeMemory.AlignedFree(a);
        NativeMemory.AlignedFree(y);
        NativeMemory.AlignedFree(panel);
    }

    /// <summary>The matrix in 64-row items, as the CPU backend's driver cuts a 2048-column F16 matrix for one thread.</summary>
    private static void RowsInBlocks(GgmlType type, byte* weights, long rowBytes, int columns, int rows, float* a, float* y, float* panel)
    {
        for (var first = 0; first < rows; first += 64)
        {
            WidenedMatMul.Rows(type, weights, rowBytes, columns, first, Math.Min(rows, first + 64), a, columns, 1, y, rows, panel);
        }
    }

    /// <summary>The pre-#22 FP8 path: each row decoded to f32, then the F32 dot.</summary>
    private static void LegacyFp8(byte* weights, long rowBytes, int columns, int rows, float* a, float* y)
    {
        var row = stackalloc float[columns];
        for (var r = 0; r < rows; r++)
        {
            Fp8Rows.Decode(weights + (r * rowBytes), row, columns);
            y[r] = WidenedMatMul.Dot(GgmlType.F32, (byte*)row, a, columns);
        }
    }

    /// <summary>
    /// Each variant's median GB/s over <paramref name="rounds"/> rounds, the variants alternated within each round so
    /// that machine load hits them alike; a run is charged <paramref name="bytes"/>.
    /// </summary>
    internal static double[] MedianGBps((string Name, Action Run)[] variants, int rounds, long bytes)
    {
        var samples = variants.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var v = 0; v < variants.Length; v++)
            {
                variants[v].Run(); // warm
                var sw = Stopwatch.StartNew();
                var reps = 0;
                while (sw.Elapsed.TotalMilliseconds < 300)
                {
                    variants[v].Run();
                    reps++;
                }

                samples[v].Add(bytes * reps / sw.Elapsed.TotalSeconds / 1e9);
            }
        }

        return [.. samples.Select(Median)];
    }

    private static double Median(List<double> xs)
    {
        xs.Sort();
        return xs[xs.Count / 2];
    }

    /// <summary>Every byte once, through four independent vector sums: what memory gives one core.</summary>
    internal static void Read(byte* p, long bytes)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<int> s0 = default, s1 = default, s2 = default, s3 = default;
            for (long i = 0; i + 256 <= bytes; i += 256)
            {
                s0 += Vector512.Load((int*)(p + i));
                s1 += Vector512.Load((int*)(p + i + 64));
                s2 += Vector512.Load((int*)(p + i + 128));
                s3 += Vector512.Load((int*)(p + i + 192));
            }

            Sink = Vector512.Sum(s0 + s1 + s2 + s3);
        }
        else
        {
            Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
            for (long i = 0; i + 128 <= bytes; i += 128)
            {
                s0 += Vector256.Load((int*)(p + i));
                s1 += Vector256.Load((int*)(p + i + 32));
                s2 += Vector256.Load((int*)(p + i + 64));
                s3 += Vector256.Load((int*)(p + i + 96));
            }

            Sink = Vector256.Sum(s0 + s1 + s2 + s3);
        }
    }

    private static int Sink { get; set; }
}
