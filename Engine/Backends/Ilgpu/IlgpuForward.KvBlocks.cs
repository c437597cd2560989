using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using Fathom.Engine.KvCache;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// The device KV cache as <see cref="Fathom.Engine.KvCache.IKvBlockStorage"/>: whole blocks (all layers, K and V)
/// read and written as payloads, and copied device-side for forks. An f16 cache exchanges f32 payloads (converted
/// from/to the device's f16); an fp8 cache exchanges its e4m3 bytes unchanged, so a second tier stores exactly what
/// the device holds. A block moves as one packed copy (<see cref="KvBlockKernels"/>), not one copy per layer and K/V.
/// </summary>
internal sealed partial class IlgpuForward
{
    private readonly Lock _blockLock = new();
    private MemoryBuffer1D<ushort, Stride1D.Dense>? _packedBlock; // (layers, 2, block_size, n_head_kv, head_dim) elements as 16-bit words
    private ushort[]? _hostBlock; // pinned host twin of _packedBlock

    /// <summary>Payload elements: f32 for an f16 cache (as the host KV of an f32 engine), fp8 for an fp8 cache.</summary>
    public KvCacheDataType DataType => _fp8Kv ? KvCacheDataType.Fp8 : KvCacheDataType.F32;

    public int BlockBytes => BlockFloats * KvCacheDataTypes.SizeOf(DataType);

    public void ReadBlock(int block, Span<byte> destination)
    {
        if (!_fp8Kv)
        {
            ReadBlock(block, MemoryMarshal.Cast<byte, float>(destination));
            return;
        }

        CheckBlock(block, destination.Length);
        lock (_blockLock)
        {
            MemoryMarshal.AsBytes(Download(block).AsSpan()).CopyTo(destination);
        }
    }

    public void WriteBlock(int block, ReadOnlySpan<byte> source)
    {
        if (!_fp8Kv)
        {
            WriteBlock(block, MemoryMarshal.Cast<byte, float>(source));
            return;
        }

        CheckBlock(block, source.Length);
        lock (_blockLock)
        {
            var host = BlockStaging().Host;
            source.CopyTo(MemoryMarshal.AsBytes(host.AsSpan()));
            Upload(block);
        }
    }

    /// <summary>Reads an f16 cache's block as f32.</summary>
    public void ReadBlock(int block, Span<float> destination)
    {
        CheckF16Payload();
        CheckBlock(block, destination.Length);
        lock (_blockLock)
        {
            ToSingle(Download(block), destination);
        }
    }

    /// <summary>Writes an f16 cache's block from f32 (rounded to f16).</summary>
    public void WriteBlock(int block, ReadOnlySpan<float> source)
    {
        CheckF16Payload();
        CheckBlock(block, source.Length);
        lock (_blockLock)
        {
            ToHalf(source, BlockStaging().Host);
            Upload(block);
        }
    }

    /// <summary>Copies block <paramref name="source"/> onto block <paramref name="destination"/> on the device (copy-on-write forks).</summary>
    public void CopyBlock(int source, int destination)
    {
        CheckBlock(source, BlockFloats);
        CheckBlock(destination, BlockFloats);
        Activate();
        _device.KvBlocks.Copy(_keys.View.AsContiguous().Cast<ushort>(), _values.View.AsContiguous().Cast<ushort>(), BlockShape(source) with { Destination = destination });
        _device.Accelerator.Synchronize();
    }

    // Packs the block on the device and brings it into the pinned staging array. Call under _blockLock.
    private ushort[] Download(int block)
    {
        Activate();
        var (packed, host) = BlockStaging();
        _device.KvBlocks.Pack(_keys.View.AsContiguous().Cast<ushort>(), _values.View.AsContiguous().Cast<ushort>(), BlockShape(block), packed.View);
        HostCopy.ToHost(_device.Accelerator, packed.View, host.AsSpan());
        return host;
    }

    // Sends the staging array up and unpacks it into the block. Call under _blockLock.
    private void Upload(int block)
    {
        Activate();
        var (packed, host) = BlockStaging();
        HostCopy.ToDevice(_device.Accelerator, packed.View, host.AsSpan());
        _device.KvBlocks.Unpack(packed.View, BlockShape(block), _keys.View.AsContiguous().Cast<ushort>(), _values.View.AsContiguous().Cast<ushort>());
        _device.Accelerator.Synchronize();
    }

    // The block in 16-bit words (one f16 or two fp8 elements each).
    private KvBlockKernels.KvBlockShape BlockShape(int block) =>
        new(_hp.LayerCount, BlockSize * TokenStride * KvElementBytes / 2, (long)LayerElements * KvElementBytes / 2, block);

    private int BlockWords => BlockFloats * KvElementBytes / 2;

    // One device buffer and one pinned host array per forward, made on the first block move (most runs never move one).
    private (MemoryBuffer1D<ushort, Stride1D.Dense> Packed, ushort[] Host) BlockStaging()
    {
        _packedBlock ??= Own(_device.Accelerator.Allocate1D<ushort>(BlockWords));
        _hostBlock ??= GC.AllocateArray<ushort>(BlockWords, pinned: true);
        return (_packedBlock, _hostBlock);
    }

    private void CheckF16Payload()
    {
        if (_fp8Kv)
        {
            throw new InvalidOperationException("this device KV cache holds fp8; its block payloads are e4m3 bytes, not f32");
        }
    }

    // payloadLength: elements for f32 spans and copies, bytes for fp8 byte payloads (one byte an element).
    private void CheckBlock(int block, int payloadLength)
    {
        if ((uint)block >= (uint)BlockCount)
        {
            throw new ArgumentOutOfRangeException(nameof(block), block, $"the KV storage has {BlockCount} blocks");
        }

        if (payloadLength != BlockFloats)
        {
            throw new ArgumentException($"a block payload is {BlockFloats} elements, not {payloadLength}", nameof(payloadLength));
        }
    }

    private static void ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        var bits = MemoryMarshal.Cast<ushort, System.Half>(source);
        for (var i = 0; i < bits.Length; i++)
        {
            destination[i] = (float)bits[i];
        }
    }

    private static void ToHalf(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        var bits = MemoryMarshal.Cast<ushort, System.Half>(destination);
        for (var i = 0; i < source.Length; i++)
        {
            bits[i] = (System.Half)source[i];
        }
    }
}
