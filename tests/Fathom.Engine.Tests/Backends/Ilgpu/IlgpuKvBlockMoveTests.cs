using System.Runtime.InteropServices;
using Fathom.Engine.Model;
using Fathom.Engine.Tests.Model;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Backends.Ilgpu;

/// <summary>
/// KV block moves on the device (one packed copy per block, one kernel per fork) on ILGPU's CPU accelerator: a
/// block read has the host layout (the reference backend's f32 payload up to f16 rounding), writes and forks move
/// it byte for byte without touching other blocks, and a sequence continued from a forked block decodes the same.
/// </summary>
public sealed class IlgpuKvBlockMoveTests
{
    private static readonly int[] Prompt = [1, 403, 407, 261, 378, 300, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310, 311, 312, 313, 314];

    [Fact]
    public void Moved_blocks_are_byte_equal_and_keep_the_host_layout()
    {
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        using var reference = LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.Reference, KvBlockCount = 6 });
        using var device = LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.IlgpuCpu, KvBlockCount = 6 });
        ModelRunner.LastLogits(reference, Prompt); // 20 tokens: blocks 0 and 1 (16 + 4)
        ModelRunner.LastLogits(device, Prompt);
        var storage = device.KvBlocks;
        Assert.Equal(reference.KvBlocks.BlockBytes, storage.BlockBytes);

        var block0 = Read(storage, 0);
        var block1 = Read(storage, 1);
        var hostBlock0 = Read(reference.KvBlocks, 0);
        var error = ModelRunner.RelativeError(MemoryMarshal.Cast<byte, float>(block0).ToArray(), MemoryMarshal.Cast<byte, float>(hostBlock0).ToArray());
        Assert.True(error < 2e-3, $"device block 0 differs from the host layout: relative error {error:E3}");
        Assert.Equal(new byte[storage.BlockBytes], Read(storage, 4)); // never written

        storage.WriteBlock(3, block0);
        Assert.Equal(block0, Read(storage, 3));
        storage.CopyBlock(1, 5);
        Assert.Equal(block1, Read(storage, 5));
        Assert.Equal(block0, Read(storage, 0)); // sources untouched
        Assert.Equal(block1, Read(storage, 1));
        Assert.Equal(new byte[storage.BlockBytes], Read(storage, 4)); // neighbours untouched

        // A sequence whose table points at the copies (3 for 0, 5 for 1) continues as the original: the same greedy
        // token, logits equal up to the simulator's run-to-run f32 reassociation (~1e-6; a wrong block is O(1)).
        var vocab = device.HyperParameters.VocabularySize;
        var original = new float[vocab];
        var forked = new float[vocab];
        device.Forward(new ForwardBatch([42], [Prompt.Length], [0], [[0, 1]], [0]), original);
        device.Forward(new ForwardBatch([42], [Prompt.Length], [0], [[3, 5]], [0]), forked);
        Assert.True(ModelRunner.RelativeError(forked, original) < 1e-5, $"forked decode differs: {ModelRunner.RelativeError(forked, original):E3}");
        Assert.Equal(device.ArgMax(original), device.ArgMax(forked));
    }

    [Fact]
    public void Fp8_blocks_are_the_device_bytes_in_the_host_layout_and_move_byte_equal()
    {
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        var fp8 = Fathom.Engine.KvCache.KvCacheDataType.Fp8;
        using var reference = LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.Reference, KvBlockCount = 6, KvCacheDataType = fp8 });
        using var device = LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.IlgpuCpu, KvBlockCount = 6, KvCacheDataType = fp8 });
        Assert.Equal(fp8, device.KvCacheDataType);
        Assert.Equal(reference.Fingerprint, device.Fingerprint); // same payloads, so a tier may share them
        ModelRunner.LastLogits(reference, Prompt);
        ModelRunner.LastLogits(device, Prompt);
        var storage = device.KvBlocks;
        var hp = device.HyperParameters;
        Assert.Equal(2 * hp.LayerCount * device.KvBlockSize * hp.KvLength, storage.BlockBytes); // one byte an element
        Assert.Equal(reference.KvBlocks.BlockBytes, storage.BlockBytes);
        Assert.Equal(storage.BlockBytes / 2, device.KvCacheBytes / 6 / 2); // K and V bytes per block, per tensor

        // Both engines round the same f32 K/V with the same e4m3 function; only the backends' f32 arithmetic can put
        // an element on the other side of a rounding boundary (one code apart).
        var block0 = Read(storage, 0);
        var hostBlock0 = Read(reference.KvBlocks, 0);
        var differing = block0.Zip(hostBlock0).Count(p => p.First != p.Second);
        Assert.True(differing <= block0.Length / 100, $"{differing} of {block0.Length} fp8 bytes differ from the host's");
        Assert.All(block0.Zip(hostBlock0), p => Assert.True(Math.Abs(p.First - p.Second) <= 1 || (p.First ^ p.Second) == 0x80, $"0x{p.First:X2} vs 0x{p.Second:X2}"));

        var block1 = Read(storage, 1);
        storage.WriteBlock(3, hostBlock0);
        Assert.Equal(hostBlock0, Read(storage, 3));
        storage.CopyBlock(1, 5);
        Assert.Equal(block1, Read(storage, 5));
        Assert.Equal(block0, Read(storage, 0));
        Assert.Equal(new byte[storage.BlockBytes], Read(storage, 4));

        var vocab = hp.VocabularySize;
        var original = new float[vocab];
        var forked = new float[vocab];
        storage.WriteBlock(3, block0);
        device.Forward(new ForwardBatch([42], [Prompt.Length], [0], [[0, 1]], [0]), original);
        device.Forward(new ForwardBatch([42], [Prompt.Length], [0], [[3, 5]], [0]), forked);
        Assert.True(ModelRunner.RelativeError(forked, original) < 1e-5, $"forked decode differs: {ModelRunner.RelativeError(forked, original):E3}");
    }

    private static byte[] Read(Fathom.Engine.KvCache.IKvBlockStorage storage, int block)
    {
        var payload = new byte[storage.BlockBytes];
        storage.ReadBlock(block, payload);
        return payload;
    }
}
