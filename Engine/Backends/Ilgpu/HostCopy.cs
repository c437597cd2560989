using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// Copies between managed memory and the device with the host side pinned for the whole copy. ILGPU 1.5.3's
/// <c>CopyFromCPU</c>/<c>CopyToCPU(ref T)</c> take the address of a managed element without pinning it, and the
/// GC may move the array while the driver still reads or writes it (a compacting GC runs concurrently with a
/// thread inside a driver call). Each copy here pins its span with <c>fixed</c> and waits for the copy before
/// the pin ends. Per-step buffers that must not wait use page-locked memory instead (<see cref="IlgpuTensorParallel"/>).
/// </summary>
internal static unsafe class HostCopy
{
    /// <summary>Copies <paramref name="source"/> into the start of <paramref name="target"/> and waits for it.</summary>
    public static void ToDevice<T>(Accelerator accelerator, ArrayView<T> target, ReadOnlySpan<T> source)
        where T : unmanaged
    {
        if (source.IsEmpty)
        {
            return;
        }

        fixed (T* pointer = source)
        {
            target.SubView(0, source.Length).CopyFromCPU(ref Unsafe.AsRef<T>(pointer), source.Length);
            accelerator.Synchronize();
        }
    }

    /// <summary>Copies the start of <paramref name="source"/> into <paramref name="destination"/> and waits for it.</summary>
    public static void ToHost<T>(Accelerator accelerator, ArrayView<T> source, Span<T> destination)
        where T : unmanaged
    {
        if (destination.IsEmpty)
        {
            return;
        }

        fixed (T* pointer = destination)
        {
            source.SubView(0, destination.Length).CopyToCPU(ref Unsafe.AsRef<T>(pointer), destination.Length);
            accelerator.Synchronize();
        }
    }

    /// <summary>Allocates a device buffer holding <paramref name="values"/> (pinned while copied).</summary>
    public static MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(Accelerator accelerator, ReadOnlySpan<T> values)
        where T : unmanaged
    {
        var buffer = accelerator.Allocate1D<T>(Math.Max(1, values.Length));
        try
        {
            ToDevice(accelerator, buffer.View, values);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }
}
