using System.Diagnostics;
using Fathom.Gguf;

namespace Fathom.Gguf.Tests;

[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public sealed class MemoryMeasurement;

/// <summary>Opening a 1 GiB file must map it, not read it: resident memory grows by megabytes, not the file's size.</summary>
[Collection(nameof(MemoryMeasurement))]
public sealed class GgufLargeFileTests
{
    private const int TensorCount = 16;
    private const long RowLength = 4096;
    private const long RowsPerTensor = 4096; // 4096 x 4096 F32 = 64 MiB per tensor, 1 GiB in all
    private const long MaxGrowthBytes = 64L << 20;

    [Fact]
    public void Opening_a_1GiB_file_costs_megabytes_of_resident_memory()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fathom-1gib-{Guid.NewGuid():N}.gguf");
        try
        {
            WriteSyntheticModel(path);
            Assert.True(new FileInfo(path).Length > 1L << 30);

            GC.Collect();
            GC.WaitForPendingFinalizers();
            var before = ResidentBytes();
            long sink = 0;
            using (var file = GgufFile.Open(path))
            {
                var afterOpen = ResidentBytes() - before;
                Assert.Equal("synthetic", file.Metadata.Architecture);
                Assert.Equal(TensorCount, file.Tensors.Count);
                foreach (var t in file.Tensors)
                {
                    var bytes = file.GetTensorBytes(t);
                    Assert.Equal(RowLength * RowsPerTensor * 4, bytes.Length);

                    // Each tensor's first and last float hold its index, written by the streaming callback.
                    var index = int.Parse(t.Name.AsSpan(7), System.Globalization.CultureInfo.InvariantCulture);
                    Assert.Equal(index, BitConverter.ToSingle(bytes[..4]));
                    Assert.Equal(index, BitConverter.ToSingle(bytes[^4..]));
                    sink += bytes[bytes.Length / 2];
                }

                var growth = ResidentBytes() - before;
                TestContext.Current.SendDiagnosticMessage($"RSS growth for a {new FileInfo(path).Length} byte GGUF: {afterOpen / 1024} KiB after open, {growth / 1024} KiB after touching 3 points of each tensor");
                Assert.True(growth < MaxGrowthBytes, $"RSS grew by {growth / (1 << 20)} MiB opening a 1 GiB file (limit {MaxGrowthBytes >> 20} MiB).");
            }

            GC.KeepAlive(sink);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void WriteSyntheticModel(string path)
    {
        var writer = new GgufWriter();
        writer.AddMetadata("general.architecture", "synthetic");
        writer.AddMetadata("synthetic.note", "streamed, never held in memory");
        for (var i = 0; i < TensorCount; i++)
        {
            var index = i;
            writer.AddTensor($"tensor.{index:D2}", GgmlType.F32, [RowLength, RowsPerTensor], stream =>
            {
                // One 1 MiB chunk reused for the whole tensor; first and last values mark the tensor.
                var chunk = new byte[1 << 20];
                var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(chunk.AsSpan());
                var total = RowLength * RowsPerTensor * 4;
                for (long written = 0; written < total; written += chunk.Length)
                {
                    floats[0] = written == 0 ? index : 0.5f;
                    floats[^1] = written + chunk.Length == total ? index : 0.25f;
                    stream.Write(chunk);
                }
            });
        }

        writer.WriteTo(path);
    }

    private static long ResidentBytes()
    {
        if (OperatingSystem.IsLinux())
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }

        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return self.WorkingSet64;
    }
}
