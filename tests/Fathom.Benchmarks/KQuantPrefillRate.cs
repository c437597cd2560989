using System.Globalization;
using System.Runtime.InteropServices;
using Fathom.Engine.Quantization;
using Fathom.Gguf;

namespace Fathom.Benchmarks;

/// <summary>
/// Multi-activation Q4_K/Q6_K matmul over the interleaved layout, in process, on one thread: billions of multiply-adds per
/// second (GMAC/s) of the prefill kernels, median of alternated rounds. The matrix is small enough to stay in the caches,
/// so this shows the kernels' arithmetic bound, which decides Q4_K_M prefill speed.
/// <c>dotnet run -c Release --project tests/Fathom.Benchmarks -- kquant-prefill [rows] [columns] [activations] [rounds]</c>.
/// </summary>
internal static unsafe class KQuantPrefillRate
{
    public static void Run(string[] args)
    {
        var rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 512;
        var columns = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2048;
        var count = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 64;
        var rounds = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 7;
        Console.WriteLine($"tier {KernelTiers.Name(KernelTiers.Current)}, {rows}x{columns} x {count} activations, {rounds} rounds (median GMAC/s)");
        var rng = new Random(1);
        var aRow = (int)Q8K.RowBytes(columns);
        var a = (byte*)NativeMemory.AlignedAlloc((nuint)((long)aRow * count), 64);
        var activations = new float[columns];
        for (var t = 0; t < count; t++)
        {
            for (var i = 0; i < columns; i++)
            {
                activations[i] = (float)(rng.NextDouble() - 0.5);
            }

            fixed (float* x = activations)
            {
                ActivationQuantizer.Q8KRow(x, a + ((long)t * aRow), columns);
            }
        }

        var y = (float*)NativeMemory.AlignedAlloc((nuint)rows * (nuint)count * 4, 64);
        var variants = new List<(string Name, Action Run)>();
        var buffers = new List<nint>();
        foreach (var type in new[] { GgmlType.Q4_K, GgmlType.Q6_K })
        {
            var packed = KQuantDecodeAb.RandomInterleaved(type, rows, columns, rng);
            buffers.Add((nint)packed);
            variants.Add((type.ToString(), () => InterleavedKQuantMatMul.Rows(type, packed, rows, columns, 0, rows, a, aRow, count, y, rows)));
            if (type == GgmlType.Q4_K && KernelTiers.Current == KernelTier.Avx512 && count % 8 == 0)
            {
                // The 256-bit kernel alone (one group of eight rows per call), against which the 512-bit pair kernel was chosen.
                var groupBytes = InterleavedKQuantLayout.ByteSize(type, columns, InterleavedKQuantLayout.GroupRows);
                variants.Add(("Q4_K 256-bit", () =>
                {
                    for (var g = 0; g < rows / InterleavedKQuantLayout.GroupRows; g++)
                    {
                        for (var t = 0; t < count; t += 8)
                        {
                            InterleavedKQuantAvx2.Q4Kx8(packed + (g * groupBytes), columns / 256, a + ((long)t * aRow), aRow, y + ((long)t * rows) + (g * 8), rows);
                        }
                    }
                }));
            }
        }

        // MedianGBps charges each run `bytes`; charging the multiply-adds (in thousands, to stay in a long) gives T/s.
        var macs = (long)rows * columns * count;
        var medians = WidenedDecodeAb.MedianGBps([.. variants], rounds, macs);
        Console.WriteLine(string.Join(", ", variants.Select((v, i) => $"{v.Name} {medians[i]:F1}")) + " GMAC/s");
        foreach (var buffer in buffers)
        {
            NativeMemory.AlignedFree((void*)buffer);
        }

        NativeMemory.AlignedFree(a);
        NativeMemory.AlignedFree(y);
    }
}
