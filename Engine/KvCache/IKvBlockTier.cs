namespace Fathom.Engine.KvCache;

/// <summary>
/// A second prefix-cache tier behind the local block pool (e.g. a shared Redis store). The pool consults it on
/// admission for the blocks that follow the local hit, and tells it when a full block is first computed or is
/// about to be evicted, so a write-behind store can copy the block out.
/// </summary>
/// <remarks>All calls come from the engine loop thread and must not block: answer from local state, queue work.</remarks>
public interface IKvBlockTier
{
    /// <summary>
    /// How many of <paramref name="hashes"/>, from the first on, the tier can supply (a contiguous run). Count only
    /// blocks already held locally (e.g. prefetched before the request was queued): the runner will call
    /// <see cref="TryLoad"/> for each of them before the step's forward pass, and cannot wait for a network.
    /// </summary>
    int CountAvailable(ReadOnlySpan<BlockHash> hashes);

    /// <summary>A full block was computed for the first time; its K/V are in physical block <paramref name="block"/>.</summary>
    void OnBlockComputed(BlockHash hash, int block);

    /// <summary>Physical block <paramref name="block"/> holding <paramref name="hash"/> is about to be reused; read it now or never.</summary>
    void OnBlockEvicted(BlockHash hash, int block);

    /// <summary>
    /// Writes the K/V of <paramref name="hash"/> into physical block <paramref name="block"/> through
    /// <paramref name="storage"/>; false when the tier no longer holds it (a broken promise of
    /// <see cref="CountAvailable"/>, which the runner reports as an error).
    /// </summary>
    bool TryLoad(BlockHash hash, int block, IKvBlockStorage storage);
}
