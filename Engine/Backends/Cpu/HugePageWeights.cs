using System.Runtime.InteropServices;
using Fathom.Gguf;
using Fathom.Engine.Quantization;

namespace Fathom.Engine.Backends.Cpu;

/// <summary>
/// Weight matrices copied out of the file mapping into 2 MiB-aligned anonymous memory advised for transparent huge
/// pages. A decode step streams every weight once; on 4 KiB file pages each 4 KiB costs a TLB miss, which under
/// virtualisation (nested page walks) made the same kernel 4–7× slower than on huge pages (measured on dev-2c).
/// Each source range is dropped from this process's mapping after the copy, so resident memory stays ≈ the file.
/// </summary>
internal sealed unsafe partial class HugePageWeights : IDisposable
{
    private const int MadviseHugePage = 14;
    private const int MadviseDontNeed = 4;
    private const long PageSize = 4096;
    private readonly byte* _base;
    private readonly long _capacity;
    private readonly IProgress<double>? _progress;
    private readonly int _threads;
    private long _used;

    /// <param name="capacity">Bytes of the arena.</param>
    /// <param name="progress">Told the fraction of the arena used after each placement.</param>
    /// <param name="threads">Threads that may repack a matrix (the backend's worker count).</param>
    public HugePageWeights(long capacity, IProgress<double>? progress, int threads = 1)
    {
        _capacity = Math.Max(capacity, 64);
        _progress = progress;
        _threads = threads;
        _base = (byte*)NativeMemory.AlignedAlloc((nuint)_capacity, 2 << 20);
        if (OperatingSystem.IsLinux())
        {
            _ = Madvise((nint)_base, (nuint)_capacity, MadviseHugePage); // advice only: without THP it is plain memory
        }
    }

    /// <summary>Copies <paramref name="bytes"/> from the mapping and returns the copy (64-byte aligned).</summary>
    public byte* Copy(byte* source, long bytes)
    {
        var destination = Reserve(bytes);
        Buffer.MemoryCopy(source, destination, bytes, bytes);
        Release(source, bytes);
        return destination;
    }

    /// <summary>Uninitialised arena space of <paramref name="bytes"/> (64-byte aligned), e.g. for probes that stream memory.</summary>
    public byte* Reserve(long bytes)
    {
        var offset = (_used + 63) & ~63L;
        if (offset + bytes > _capacity)
        {
            throw new InvalidOperationException($"weight arena of {_capacity} bytes is too small");
        }

        _used = offset + bytes;
        _progress?.Report((double)_used / _capacity);
        return _base + offset;
    }

    /// <summary>
    /// Drops the whole pages of a mapped range from this process's page tables (they stay in the page cache and fault
    /// back in if read again, so this is safe for any range the process no longer needs resident).
    /// </summary>
    public static void Release(byte* source, long bytes)
    {
        if (OperatingSystem.IsLinux())
        {
            // Whole pages inside the source range only: neighbours may still be read through the mapping.
            var first = ((long)source + PageSize - 1) & ~(PageSize - 1);
            var last = ((long)source + bytes) & ~(PageSize - 1);
            if (last > first)
            {
                _ = Madvise((nint)first, (nuint)(last - first), MadviseDontNeed);
            }
        }
    }

    /// <summary>
    /// A matrix placed in the arena: regrouped for the interleaved kernels when <paramref name="interleave"/> is asked
    /// and this CPU has them for its type (the source is then read once, not copied), else copied as is.
    /// </summary>
    public WeightMatrix Place(string name, GgmlType type, byte* source, int columns, int rows, bool interleave)
    {
        var bytes = CheckpointTypes.RowBytes(type, columns) * rows;
        if (interleave && InterleavedKQuantLayout.Supports(type))
        {
            var packed = Reserve(InterleavedKQuantLayout.ByteSize(type, columns, rows));
            InterleavedKQuantLayout.Pack(type, source, columns, rows, packed, _threads);
            Release(source, bytes);
            return new WeightMatrix(name, type, packed, columns, rows, interleaved: true);
        }

        if (!interleave || !InterleavedLayout.Supports(type))
        {
            return new WeightMatrix(name, type, Copy(source, bytes), columns, rows);
        }

        var destination = Reserve(InterleavedLayout.ByteSize(type, columns, rows));
        InterleavedLayout.Pack(type, source, columns, rows, destination, _threads);
        Release(source, bytes);
        return new WeightMatrix(name, type, destination, columns, rows, interleaved: true);
    }

    /// <summary>Bytes <see cref="Place"/> may take for a tensor, padding included.</summary>
    public static long Capacity(GgufTensorInfo tensor) => tensor.Dimensions.Length == 2
        ? Capacity(tensor.Type, tensor.Dimensions[0], tensor.Dimensions[1])
        : 64 + tensor.ByteSize;

    /// <summary>Bytes <see cref="Place"/> may take for a <paramref name="columns"/> × <paramref name="rows"/> matrix of <paramref name="type"/>.</summary>
    public static long Capacity(GgmlType type, long columns, long rows) =>
        64 + (InterleavedKQuantLayout.Supports(type)
            ? InterleavedKQuantLayout.ByteSize(type, (int)columns, (int)rows)
            : InterleavedLayout.Supports(type) && columns % 32 == 0
            ? InterleavedLayout.ByteSize(type, (int)columns, (int)rows)
            : CheckpointTypes.RowBytes(type, columns) * rows);

    public void Dispose() => NativeMemory.AlignedFree(_base);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
