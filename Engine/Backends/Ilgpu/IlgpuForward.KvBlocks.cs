using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using Fathom.Engine.KvCache;
using DeviceHalf = ILGPU.Half;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// The device KV cache as <see cref="Fathom.Engine.KvCache.IKvBlockStorage"/>: whole blocks (all layers, K and V)
/// read and written as f32 payloads (converted from/to the device's f16), and copied device-side for forks.
/// </summary>
internal sealed partial class IlgpuForward
{
    /// <summary>Payloads are f32 (the device's f16 converted), as the host KV of an f32 engine.</summary>
    public KvCacheDataType DataType => KvCacheDataType.F32;

    public int BlockBytes => BlockFloats * sizeof(float);

    public void ReadBlock(int block, Span<byte> destination) => ReadBlock(block, MemoryMarshal.Cast<byte, float>(destination));

    public void WriteBlock(int block, ReadOnlySpan<byte> source) => WriteBlock(block, MemoryMarshal.Cast<byte, float>(source));

    public void ReadBlock(int block, Span<float> destination)
    {
        Activate();
        CheckBlock(block, destination.Length);
        var span = BlockSize * TokenStride;
        var staging = new DeviceHalf[span];
        for (var l = 0; l < _hp.LayerCount; l++)
        {
            var offset = ((long)l * LayerElements) + ((long)block * span);
            _keys.View.SubView(offset, span).CopyToCPU(ref staging[0], span);
            ToSingle(staging, destination.Slice(2 * l * span, span));
            _values.View.SubView(offset, span).CopyToCPU(ref staging[0], span);
            ToSingle(staging, destination.Slice(((2 * l) + 1) * span, span));
        }
    }

    public void WriteBlock(int block, ReadOnlySpan<float> source)
    {
        Activate();
        CheckBlock(block, source.Length);
        var span = BlockSize * TokenStride;
        var staging = new DeviceHalf[span];
        for (var l = 0; l < _hp.LayerCount; l++)
        {
            var offset = ((long)l * LayerElements) + ((long)block * span);
            ToHalf(source.Slice(2 * l * span, span), staging);
            _keys.View.SubView(offset, span).CopyFromCPU(ref staging[0], span);
            ToHalf(source.Slice(((2 * l) + 1) * span, span), staging);
            _values.View.SubView(offset, span).CopyFromCPU(ref staging[0], span);
        }
    }

    /// <summary>Copies block <paramref name="source"/> onto block <paramref name="destination"/> on the device (copy-on-write forks).</summary>
    public void CopyBlock(int source, int destination)
    {
        Activate();
        CheckBlock(source, BlockFloats);
        CheckBlock(destination, BlockFloats);
        var span = BlockSize * TokenStride;
        for (var l = 0; l < _hp.LayerCount; l++)
        {
            var layer = (long)l * LayerElements;
            _keys.View.SubView(layer + ((long)source * span), span).CopyTo(_keys.View.SubView(layer + ((long)destination * span), span));
            _values.View.SubView(layer + ((long)source * span), span).CopyTo(_values.View.SubView(layer + ((long)destination * span), span));
        }

        _device.Accelerator.Synchronize();
    }

    private void CheckBlock(int block, int payloadLength)
    {
        if ((uint)block >= (uint)BlockCount)
        {
            throw new ArgumentOutOfRangeException(nameof(block), block, $"the KV storage has {BlockCount} blocks");
        }

        if (payloadLength != BlockFloats)
        {
            throw new ArgumentException($"a block payload is {BlockFloats} floats, not {payloadLength}", nameof(payloadLength));
        }
    }

    private static void ToSingle(ReadOnlySpan<DeviceHalf> source, Span<float> destination)
    {
        var bits = MemoryMarshal.Cast<DeviceHalf, System.Half>(source);
        for (var i = 0; i < bits.Length; i++)
        {
            destination[i] = (float)bits[i];
        }
    }

    private static void ToHalf(ReadOnlySpan<float> source, Span<DeviceHalf> destination)
    {
        var bits = MemoryMarshal.Cast<DeviceHalf, System.Half>(destination);
        for (var i = 0; i < source.Length; i++)
        {
            bits[i] = (System.Half)source[i];
        }
    }
}
