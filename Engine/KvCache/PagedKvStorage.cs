namespace Fathom.Engine.KvCache;

/// <summary>
/// The key and value tensors of the KV cache, in fixed-size blocks addressed by physical block id. Which block
/// belongs to which sequence is the block manager's business; this class only stores the numbers.
/// </summary>
internal sealed class PagedKvStorage : IKvBlockStorage
{
    /// <summary>Default tokens per block.</summary>
    public const int DefaultBlockSize = 16;

    private readonly float[][] _keys;   // per layer: (blocks, block_size, n_head_kv, head_dim)
    private readonly float[][] _values; // per layer: (blocks, block_size, n_head_kv, head_dim)

    public PagedKvStorage(int layers, int blockCount, int blockSize, int kvHeads, int headDimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headDimension);
        var perLayer = checked(blockCount * blockSize * kvHeads * headDimension);
        LayerCount = layers;
        BlockCount = blockCount;
        BlockSize = blockSize;
        KvHeadCount = kvHeads;
        HeadDimension = headDimension;
        _keys = new float[layers][];
        _values = new float[layers][];
        for (var l = 0; l < layers; l++)
        {
            _keys[l] = new float[perLayer];
            _values[l] = new float[perLayer];
        }
    }

    public int LayerCount { get; }

    public int BlockCount { get; }

    public int BlockSize { get; }

    public int KvHeadCount { get; }

    public int HeadDimension { get; }

    /// <summary>Floats per cached token in one layer (all KV heads).</summary>
    public int TokenStride => KvHeadCount * HeadDimension;

    /// <summary>Bytes held, keys and values of all layers.</summary>
    public long ByteSize => 2L * LayerCount * BlockCount * BlockSize * TokenStride * sizeof(float);

    /// <summary>Keys of <paramref name="layer"/>. // (blocks, block_size, n_head_kv, head_dim)</summary>
    public float[] Keys(int layer) => _keys[layer];

    /// <summary>Values of <paramref name="layer"/>. // (blocks, block_size, n_head_kv, head_dim)</summary>
    public float[] Values(int layer) => _values[layer];

    /// <summary>Floats in one block's payload: for each layer, its keys then its values. // (layers, 2, block_size, n_head_kv, head_dim)</summary>
    public int BlockFloats => 2 * LayerCount * BlockSize * TokenStride;

    /// <summary>Copies block <paramref name="block"/>'s keys and values of every layer to <paramref name="destination"/>.</summary>
    /// <param name="block">Physical block id.</param>
    /// <param name="destination">// (layers, 2, block_size, n_head_kv, head_dim)</param>
    public void ReadBlock(int block, Span<float> destination)
    {
        var span = BlockSpan(block, destination.Length);
        for (var l = 0; l < LayerCount; l++)
        {
            _keys[l].AsSpan(block * span, span).CopyTo(destination[((2 * l) * span)..]);
            _values[l].AsSpan(block * span, span).CopyTo(destination[(((2 * l) + 1) * span)..]);
        }
    }

    /// <summary>Overwrites block <paramref name="block"/> with a payload written by <see cref="ReadBlock"/>.</summary>
    /// <param name="block">Physical block id.</param>
    /// <param name="source">// (layers, 2, block_size, n_head_kv, head_dim)</param>
    public void WriteBlock(int block, ReadOnlySpan<float> source)
    {
        var span = BlockSpan(block, source.Length);
        for (var l = 0; l < LayerCount; l++)
        {
            source.Slice(2 * l * span, span).CopyTo(_keys[l].AsSpan(block * span, span));
            source.Slice(((2 * l) + 1) * span, span).CopyTo(_values[l].AsSpan(block * span, span));
        }
    }

    /// <summary>Copies block <paramref name="source"/> onto block <paramref name="destination"/> (copy-on-write forks).</summary>
    public void CopyBlock(int source, int destination)
    {
        var span = BlockSpan(source, BlockFloats);
        _ = BlockSpan(destination, BlockFloats);
        for (var l = 0; l < LayerCount; l++)
        {
            Array.Copy(_keys[l], source * span, _keys[l], destination * span, span);
            Array.Copy(_values[l], source * span, _values[l], destination * span, span);
        }
    }

    /// <summary>Offset of position <paramref name="position"/>'s first float, given the sequence's block table.</summary>
    /// <exception cref="ArgumentException">The block table does not cover the position, or names a block that does not exist.</exception>
    public int Offset(int[] blockTable, int position)
    {
        var index = position / BlockSize;
        if ((uint)index >= (uint)blockTable.Length)
        {
            throw new ArgumentException($"position {position} needs block {index} but the block table has {blockTable.Length} blocks");
        }

        var block = blockTable[index];
        if ((uint)block >= (uint)BlockCount)
        {
            throw new ArgumentException($"block id {block} is outside the {BlockCount} blocks of the KV storage");
        }

        return ((block * BlockSize) + (position % BlockSize)) * TokenStride;
    }

    private int BlockSpan(int block, int payloadLength)
    {
        if ((uint)block >= (uint)BlockCount)
        {
            throw new ArgumentOutOfRangeException(nameof(block), block, $"the KV storage has {BlockCount} blocks");
        }

        if (payloadLength != BlockFloats)
        {
            throw new ArgumentException($"a block payload is {BlockFloats} floats, not {payloadLength}", nameof(payloadLength));
        }

        return BlockSize * TokenStride;
    }
}
