namespace Fathom.Engine.KvCache;

/// <summary>The cached leading blocks found for a sequence on admission.</summary>
/// <param name="LocalBlocks">Physical blocks of the local prefix cache, in order.</param>
/// <param name="RemoteHashes">Keys of the blocks that follow, which the second tier supplies.</param>
/// <param name="BlockSize">Tokens per block.</param>
public sealed record PrefixMatch(IReadOnlyList<int> LocalBlocks, IReadOnlyList<BlockHash> RemoteHashes, int BlockSize)
{
    /// <summary>Leading blocks covered, local and remote.</summary>
    public int NumBlocks => LocalBlocks.Count + RemoteHashes.Count;

    /// <summary>Leading tokens whose K/V need not be computed.</summary>
    public int NumTokens => NumBlocks * BlockSize;
}
