using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using Fathom.Engine.KvCache;
using DeviceHalf = ILGPU.Half;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// The device KV cache as <see cref="Fathom.Engine.KvCache.IKvBlockStorage"/>: whole blocks (all layers, K and V)
/// read and written as f32 payloads (converted from/to the device's f16), and copied device-side for forks. A
/// block moves as one packed copy (<see cref="KvBlockKernels"/>), not one copy per layer and K/V.
/// </summary>
internal sealed partial class IlgpuForward
{
    private readonly Lock _blockLock = new();
    private MemoryBuffer1D<DeviceHalf, Stride1D.Dense>? _packedBlock; // (layers, 2, block_size, n_head_kv, head_dim)
    private DeviceHalf[]? _hostBlock; // pinned host twin of _packedBlock

    /// <summary>Payloads are f32 (the device's f16 converted), as the host KV of an f32 engine.</summary>
    public KvCacheDataType DataType => KvCacheDataType.F32;

    public int BlockBytes => BlockFloats * sizeof(float);

    public void ReadBlock(int block, Span<byte> destination) => ReadBlock(block, MemoryMarshal.Cast<byte, float>(destination));

    public void WriteBlock(int block, ReadOnlySpan<byte> source) => WriteBlock(block, MemoryMarshal.Cast<byte, float>(source));

    public void ReadBlock(int block, Span<float> destination)
    {
        CheckBlock(block, destination.Length);
        lock (_blockLock)
        {
            Activate();
            var (packed, host) = BlockStaging();
            _device.KvBlocks.Pack(_keys.View, _values.View, BlockShape(block), packed.View);
            HostCopy.ToHost(_device.Accelerator, packed.View, host.AsSpan());
            ToSingle(host, destination);
        }
    }

    public void WriteBlock(int block, ReadOnlySpan<float> source)
    {
        CheckBlock(block, source.Length);
        lock (_blockLock)
        {
            Activate();
            var (packed, host) = BlockStaging();
            ToHalf(source, host);
            HostCopy.ToDevice(_device.Accelerator, packed.View, host.AsSpan());
            _device.KvBlocks.Unpack(packed.View, BlockShape(block), _keys.View, _values.View);
            _device.Accelerator.Synchronize();
        }
    }

    /// <summary>Copies block <paramref name="source"/> onto block <paramref name="destination"/> on the device (copy-on-write forks).</summary>
    public void CopyBlock(int source, int destination)
    {
        CheckBlock(source, BlockFloats);
        CheckBlock(destination, BlockFloats);
        Activate();
        _device.KvBlocks.Copy(_keys.View, _values.View, BlockShape(source) with { Destination = destination });
        _device.Accelerator.Synchronize();
    }

    private KvBlockKernels.KvBlockShape BlockShape(int block) => new(_hp.LayerCount, BlockSize * TokenStride, LayerElements, block);

    // One device buffer and one pinned host array per forward, made on the first block move (most runs never move one).
    private (MemoryBuffer1D<DeviceHalf, Stride1D.Dense> Packed, DeviceHalf[] Host) BlockStaging()
    {
        _packedBlock ??= Own(_device.Accelerator.Allocate1D<DeviceHalf>(BlockFloats));
        _hostBlock ??= GC.AllocateArray<DeviceHalf>(BlockFloats, pinned: true);
        return (_packedBlock, _hostBlock);
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
