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

    private static byte[] Read(Fathom.Engine.KvCache.IKvBlockStorage storage, int block)
    {
        var payload = new byte[storage.BlockBytes];
        storage.ReadBlock(block, payload);
        return payload;
    }
}
