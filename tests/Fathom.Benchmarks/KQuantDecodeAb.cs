using System.Globalization;
using System.Runtime.InteropServices;
using Fathom.Engine.Quantization;
using Fathom.Gguf;

namespace Fathom.Benchmarks;

/// <summary>
/// Batch-1 Q4_K/Q6_K matvec over the interleaved layout, in process: GB/s of weight bytes for the engine's decode kernel
/// against a plain read of the same bytes, median of alternated rounds. What decides Q4_K_M decode speed on one thread: a matrix that fits the L3 shows the kernel's arithmetic bound, a larger one the memory's.
/// <c>dotnet run -c Release --project tests/Fathom.Benchmarks -- kquant-ab [rows] [columns] [rounds]</c>.
/// </summary>
internal static unsafe class KQuantDecodeAb
{
    public static void Run(string[] args)
    {
        var rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 8192;
        var columns = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2048;
        var rounds = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 7;
        Console.WriteLine($"tier {KernelTiers.Name(KernelTiers.Current)}, {rows}x{columns}, {rounds} rounds (median GB/s of weight bytes)");
        var rng = new Random(1);
        var activations = new float[columns];
        for (var i = 0; i < columns; i++)
        {
            activations[i] = (float)(rng.NextDouble() - 0.5);
        }

        var a = (byte*)NativeMemory.AlignedAlloc((nuint)Q8K.RowBytes(columns), 64);
        fixed (float* x = activations)
        {
            ActivationQuantizer.Q8KRow(x, a, columns);
        }

        var y = (float*)NativeMemory.AlignedAlloc((nuint)rows * 4, 64);
        foreach (var type in new[] { GgmlType.Q4_K, GgmlType.Q6_K })
        {
            var bytes = InterleavedKQuantLayout.ByteSize(type, columns, rows);
            var packed = RandomInterleaved(type, rows, columns, rng);
            var variants = new (string Name, Action Run)[]
            {
                ("read", () => WidenedDecodeAb.Read(packed, bytes)),
                ("engine", () => InterleavedKQuantMatMul.Rows(type, packed, rows, columns, 0, rows, a, (int)Q8K.RowBytes(columns), 1, y, rows)),
            };
            var medians = WidenedDecodeAb.MedianGBps(variants, rounds, bytes);
            Console.WriteLine($"{type}: " + string.Join(", ", variants.Select((v, i) => $"{v.Name} {medians[i]:F1}")) + $" GB/s; engine/read {medians[1] / medians[0]:F2}");
            NativeMemory.AlignedFree(packed);
        }

        NativeMemory.AlignedFree(a);
        NativeMemory.AlignedFree(y);
    }

    /// <summary>A random <paramref name="rows"/> × <paramref name="columns"/> matrix quantized to <paramref name="type"/> and
    /// interleaved; the caller frees it with <see cref="NativeMemory.AlignedFree"/>.</summary>
    internal static byte* RandomInterleaved(GgmlType type, int rows, int columns, Random rng)
    {
        var row = new float[columns];
        var rowBytes = type == GgmlType.Q4_K ? Q4K.RowBytes(columns) : Q6K.RowBytes(columns);
        var source = (byte*)NativeMemory.AlignedAlloc((nuint)(rows * rowBytes), 64);
        for (long r = 0; r < rows; r++)
        {
            for (var i = 0; i < columns; i++)
            {
                row[i] = (float)((rng.NextDouble() - 0.5) * 0.1);
            }

            var destination = new Span<byte>(source + (r * rowBytes), (int)rowBytes);
            if (type == GgmlType.Q4_K)
            {
                Q4K.Quantize(row, destination, columns);
            }
            else
            {
                Q6K.Quantize(row, destination, columns);
            }
        }

        var packed = (byte*)NativeMemory.AlignedAlloc((nuint)InterleavedKQuantLayout.ByteSize(type, columns, rows), 64);
        InterleavedKQuantLayout.Pack(type, source, columns, rows, packed, 2);
        NativeMemory.AlignedFree(source);
        return packed;
    }
}
