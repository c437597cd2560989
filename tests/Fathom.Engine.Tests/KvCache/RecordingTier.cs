using Fathom.Engine.KvCache;

namespace Fathom.Engine.Tests.KvCache;

/// <summary>A second tier that holds the keys it was given (no data) and records the pool's notifications.</summary>
internal sealed class RecordingTier : IKvBlockTier
{
    public HashSet<BlockHash> Held { get; } = [];

    public List<(BlockHash Hash, int Block)> Computed { get; } = [];

    public List<(BlockHash Hash, int Block)> Evicted { get; } = [];

    public int CountAvailable(ReadOnlySpan<BlockHash> hashes)
    {
        int n = 0;
        while (n < hashes.Length && Held.Contains(hashes[n]))
        {
            n++;
        }

        return n;
    }

    public void OnBlockComputed(BlockHash hash, int block) => Computed.Add((hash, block));

    public void OnBlockEvicted(BlockHash hash, int block) => Evicted.Add((hash, block));

    public List<(BlockHash Hash, int Block)> Loaded { get; } = [];

    public bool TryLoad(BlockHash hash, int block, IKvBlockStorage storage)
    {
        Loaded.Add((hash, block));
        return Held.Contains(hash);
    }
}
