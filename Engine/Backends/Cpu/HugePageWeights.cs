using System.Runtime.InteropServices;

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
    private long _used;

    public HugePageWeights(long capacity, IProgress<double>? progress)
    {
        _capacity = Math.Max(capacity, 64);
        _progress = progress;
        _base = (byte*)NativeMemory.AlignedAlloc((nuint)_capacity, 2 << 20);
        if (OperatingSystem.IsLinux())
        {
            _ = Madvise((nint)_base, (nuint)_capacity, MadviseHugePage); // advice only: without THP it is plain memory
        }
    }

    /// <summary>Copies <paramref name="bytes"/> from the mapping and returns the copy (64-byte aligned).</summary>
    public byte* Copy(byte* source, long bytes)
    {
        var offset = (_used + 63) & ~63L;
        if (offset + bytes > _capacity)
        {
            throw new InvalidOperationException($"weight arena of {_capacity} bytes is too small");
        }

        var destination = _base + offset;
        Buffer.MemoryCopy(source, destination, bytes, bytes);
        _used = offset + bytes;
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

        _progress?.Report((double)_used / _capacity);
        return destination;
    }

    public void Dispose() => NativeMemory.AlignedFree(_base);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
