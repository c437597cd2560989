using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Fathom.Engine.KvCache;

/// <summary>
/// The key and value tensors of the KV cache, in fixed-size blocks addressed by physical block id, as f32 or f16
/// (<see cref="DataType"/>). Which block belongs to which sequence is the block manager's business; this class only
/// stores the numbers.
/// </summary>
internal sealed class PagedKvStorage : IKvBlockStorage
{
    /// <summary>Default tokens per block.</summary>
    public const int DefaultBlockSize = 16;

    // Exactly one pair is set, per DataType. Per layer: (blocks, block_size, n_head_kv, head_dim).
    private readonly float[][]? _keys;
    private readonly float[][]? _values;
    private readonly Half[][]? _halfKeys;
    private readonly Half[][]? _halfValues;

    public PagedKvStorage(int layers, int blockCount, int blockSize, int kvHeads, int headDimension, KvCacheDataType dataType = KvCacheDataType.F32)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headDimension);
        if (dataType is not (KvCacheDataType.F32 or KvCacheDataType.F16))
        {
            throw new ArgumentOutOfRangeException(nameof(dataType), dataType, "the KV storage holds f32 or f16 (resolve auto first)");
        }

        var perLayer = checked(blockCount * blockSize * kvHeads * headDimension);
        LayerCount = layers;
        BlockCount = blockCount;
        BlockSize = blockSize;
        KvHeadCount = kvHeads;
        HeadDimension = headDimension;
        DataType = dataType;
        if (dataType == KvCacheDataType.F32)
        {
            _keys = new float[layers][];
            _values = new float[layers][];
        }
        else
        {
            _halfKeys = new Half[layers][];
            _halfValues = new Half[layers][];
        }

        for (var l = 0; l < layers; l++)
        {
            if (dataType == KvCacheDataType.F32)
            {
                _keys![l] = new float[perLayer];
                _values![l] = new float[perLayer];
            }
            else
            {
                _halfKeys![l] = new Half[perLayer];
                _halfValues![l] = new Half[perLayer];
            }
        }
    }

    public int LayerCount { get; }

    public int BlockCount { get; }

    public int BlockSize { get; }

    public int KvHeadCount { get; }

    public int HeadDimension { get; }

    /// <summary>The element type the keys and values are held in (and block payloads are written in).</summary>
    public KvCacheDataType DataType { get; }

    /// <summary>Elements per cached token in one layer (all KV heads).</summary>
    public int TokenStride => KvHeadCount * HeadDimension;

    /// <summary>Bytes held, keys and values of all layers.</summary>
    public long ByteSize => (long)LayerCount * BlockCount * BlockBytesPerLayer;

    /// <summary>Elements in one block's payload: for each layer, its keys then its values. // (layers, 2, block_size, n_head_kv, head_dim)</summary>
    public int BlockElements => 2 * LayerCount * BlockSize * TokenStride;

    /// <inheritdoc/>
    public int BlockBytes => BlockElements * KvCacheDataTypes.SizeOf(DataType);

    private long BlockBytesPerLayer => 2L * BlockSize * TokenStride * KvCacheDataTypes.SizeOf(DataType);

    /// <summary>Keys of <paramref name="layer"/> of an f32 storage. // (blocks, block_size, n_head_kv, head_dim)</summary>
    /// <exception cref="InvalidOperationException">The storage holds f16.</exception>
    public float[] Keys(int layer) => (_keys ?? throw NotHeldAs(KvCacheDataType.F32))[layer];

    /// <summary>Values of <paramref name="layer"/> of an f32 storage. // (blocks, block_size, n_head_kv, head_dim)</summary>
    /// <exception cref="InvalidOperationException">The storage holds f16.</exception>
    public float[] Values(int layer) => (_values ?? throw NotHeldAs(KvCacheDataType.F32))[layer];

    /// <summary>Keys of <paramref name="layer"/> of an f16 storage. // (blocks, block_size, n_head_kv, head_dim)</summary>
    /// <exception cref="InvalidOperationException">The storage holds f32.</exception>
    public Half[] HalfKeys(int layer) => (_halfKeys ?? throw NotHeldAs(KvCacheDataType.F16))[layer];

    /// <summary>Values of <paramref name="layer"/> of an f16 storage. // (blocks, block_size, n_head_kv, head_dim)</summary>
    /// <exception cref="InvalidOperationException">The storage holds f32.</exception>
    public Half[] HalfValues(int layer) => (_halfValues ?? throw NotHeldAs(KvCacheDataType.F16))[layer];

    /// <summary>Writes one token's keys and values of <paramref name="layer"/> at <paramref name="offset"/> (see <see cref="Offset"/>), converted to <see cref="DataType"/>.</summary>
    /// <param name="layer">The layer.</param>
    /// <param name="offset">Element offset of the token.</param>
    /// <param name="keys">// (n_head_kv, head_dim)</param>
    /// <param name="values">// (n_head_kv, head_dim)</param>
    public void Store(int layer, int offset, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        if (_keys is not null)
        {
            keys.CopyTo(_keys[layer].AsSpan(offset, keys.Length));
            values.CopyTo(_values![layer].AsSpan(offset, values.Length));
        }
        else
        {
            TensorPrimitives.ConvertToHalf(keys, _halfKeys![layer].AsSpan(offset, keys.Length));
            TensorPrimitives.ConvertToHalf(values, _halfValues![layer].AsSpan(offset, values.Length));
        }
    }

    /// <summary>Reads <paramref name="destination"/>'s length of keys of <paramref name="layer"/> from element <paramref name="offset"/>, as f32.</summary>
    public void ReadKeys(int layer, int offset, Span<float> destination) => Read(_keys, _halfKeys, layer, offset, destination);

    /// <summary>Reads <paramref name="destination"/>'s length of values of <paramref name="layer"/> from element <paramref name="offset"/>, as f32.</summary>
    public void ReadValues(int layer, int offset, Span<float> destination) => Read(_values, _halfValues, layer, offset, destination);

    /// <inheritdoc/>
    public void ReadBlock(int block, Span<byte> destination)
    {
        var span = BlockSpan(block, destination.Length);
        for (var l = 0; l < LayerCount; l++)
        {
            if (_keys is not null)
            {
                var floats = MemoryMarshal.Cast<byte, float>(destination);
                _keys[l].AsSpan(block * span, span).CopyTo(floats[(2 * l * span)..]);
                _values![l].AsSpan(block * span, span).CopyTo(floats[(((2 * l) + 1) * span)..]);
            }
            else
            {
                var halves = MemoryMarshal.Cast<byte, Half>(destination);
                _halfKeys![l].AsSpan(block * span, span).CopyTo(halves[(2 * l * span)..]);
                _halfValues![l].AsSpan(block * span, span).CopyTo(halves[(((2 * l) + 1) * span)..]);
            }
        }
    }

    /// <inheritdoc/>
    public void WriteBlock(int block, ReadOnlySpan<byte> source)
    {
        var span = BlockSpan(block, source.Length);
        for (var l = 0; l < LayerCount; l++)
        {
            if (_keys is not null)
            {
                var floats = MemoryMarshal.Cast<byte, float>(source);
                floats.Slice(2 * l * span, span).CopyTo(_keys[l].AsSpan(block * span, span));
                floats.Slice(((2 * l) + 1) * span, span).CopyTo(_values![l].AsSpan(block * span, span));
            }
            else
            {
                var halves = MemoryMarshal.Cast<byte, Half>(source);
                halves.Slice(2 * l * span, span).CopyTo(_halfKeys![l].AsSpan(block * span, span));
                halves.Slice(((2 * l) + 1) * span, span).CopyTo(_halfValues![l].AsSpan(block * span, span));
            }
        }
    }

    /// <summary>Copies block <paramref name="source"/> onto block <paramref name="destination"/> (copy-on-write forks).</summary>
    public void CopyBlock(int source, int destination)
    {
        var span = BlockSpan(source, BlockBytes);
        _ = BlockSpan(destination, BlockBytes);
        for (var l = 0; l < LayerCount; l++)
        {
            if (_keys is not null)
            {
                Array.Copy(_keys[l], source * span, _keys[l], destination * span, span);
                Array.Copy(_values![l], source * span, _values[l], destination * span, span);
            }
            else
            {
                Array.Copy(_halfKeys![l], source * span, _halfKeys[l], destination * span, span);
                Array.Copy(_halfValues![l], source * span, _halfValues[l], destination * span, span);
            }
        }
    }

    /// <summary>Offset of position <paramref name="position"/>'s first element, given the sequence's block table.</summary>
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

    private static void Read(float[][]? singles, Half[][]? halves, int layer, int offset, Span<float> destination)
    {
        if (singles is not null)
        {
            singles[layer].AsSpan(offset, destination.Length).CopyTo(destination);
        }
        else
        {
            TensorPrimitives.ConvertToSingle(halves![layer].AsSpan(offset, destination.Length), destination);
        }
    }

    private InvalidOperationException NotHeldAs(KvCacheDataType wanted) =>
        new($"this KV storage holds {KvCacheDataTypes.ToName(DataType)}, not {KvCacheDataTypes.ToName(wanted)}");

    // Elements of one layer's keys (or values) of one block, after checking the block id and the payload's byte length.
    private int BlockSpan(int block, int payloadBytes)
    {
        if ((uint)block >= (uint)BlockCount)
        {
            throw new ArgumentOutOfRangeException(nameof(block), block, $"the KV storage has {BlockCount} blocks");
        }

        if (payloadBytes != BlockBytes)
        {
            throw new ArgumentException($"a block payload is {BlockBytes} bytes, not {payloadBytes}", nameof(payloadBytes));
        }

        return BlockSize * TokenStride;
    }
}
