namespace Fathom.Engine.KvCache;

/// <summary>One sequence's logical-to-physical block map: token position p lives in block <c>Blocks[p / blockSize]</c>, slot <c>p % blockSize</c>.</summary>
public sealed class BlockTable
{
    private readonly List<int> _blocks = [];

    /// <summary>Physical block ids in logical order.</summary>
    public IReadOnlyList<int> Blocks => _blocks;

    /// <summary>Token slots in use: computed tokens plus those being computed in the current step.</summary>
    public int NumTokens { get; internal set; }

    /// <summary>How many leading blocks were already offered to the prefix cache.</summary>
    internal int NumRegisteredBlocks { get; set; }

    internal List<int> MutableBlocks => _blocks;

    /// <summary>A copy of the block ids, safe to keep after the table changes.</summary>
    public int[] ToArray() => [.. _blocks];
}
