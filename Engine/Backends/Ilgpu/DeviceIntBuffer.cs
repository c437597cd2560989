using ILGPU;
using ILGPU.Runtime;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>A reusable device int buffer for per-step inputs (tokens, positions, block tables): grows, never shrinks.</summary>
internal sealed class DeviceIntBuffer(Accelerator accelerator) : IDisposable
{
    private MemoryBuffer1D<int, Stride1D.Dense>? _buffer;

    /// <summary>Copies <paramref name="values"/> to the device (pinned until the copy is done) and returns the view holding them.</summary>
    public ArrayView<int> Upload(ReadOnlySpan<int> values)
    {
        if (_buffer is null || _buffer.Length < values.Length)
        {
            _buffer?.Dispose();
            _buffer = accelerator.Allocate1D<int>(Math.Max(16, values.Length * 2L));
        }

        var view = _buffer.View.SubView(0, Math.Max(1, values.Length));
        HostCopy.ToDevice(accelerator, view, values);
        return view;
    }

    public void Dispose() => _buffer?.Dispose();
}
