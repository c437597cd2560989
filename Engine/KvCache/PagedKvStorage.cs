using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Fathom.Engine.Quantization;

namespace Fathom.Engine.KvCache;

/// <summary>
/// The key and value tensors of the KV cache, in fixed-size blocks addressed by physical block id, as f32, f16 or
/// fp8 e4m3 (<see cref="DataType"/>). Which block belongs to which sequence is the block manager's business; this class only
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
    private readonly byte[][]? _fp8Keys;
    private readonly byte[][]? _fp8Values;

    public PagedKvStorage(int layers, int blockCount, int blockSize, int kvHeads, int headDimension, KvCacheDataType dataType = KvCacheDataType.F32)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headDimension);
        if (dataType is not (KvCacheDataType.F32 or KvCacheDataType.F16 or KvCacheDataType.Fp8))
        {
            throw new ArgumentOutOfRangeException(nameof(dataType), dataType, "the KV storage holds f32, f16 or fp8 (resolve auto first)");
        }

        var perLayer = checked(blockCount * blockSize * kvHeads * headDimension);
        LayerCount = layers;
        BlockCount = blockCount;
        BlockSize = blockSize;
        KvHeadCount = kvHeads;
        HeadDimension = headDimension;
        DataType = dataType;
        switch (dataType)
        {
            case KvCacheDataType.F32:
                (_keys, _values) = (Layers<float>(layers, perLayer), Layers<float>(layers, perLayer));
                break;
            case KvCacheDataType.F16:
                (_halfKeys, _halfValues) = (Layers<Half>(layers, perLayer), Layers<Half>(layers, perLayer));
                break;
            default:
                (_fp8Keys, _fp8Values) = (Layers<byte>(layers, perLayer), Layers<byte>(layers, perLayer));
                break;
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

    /// <summary>Keys of <paramref name="layer"/> of an fp8 storage, e4m3 bytes (<see cref="Fp8E4M3"/>, scale 1). // (blocks, block_size, n_head_kv, head_dim)</summary>
    /// <exception cref="InvalidOperationException">The storage holds f32 or f16.</exception>
    public byte[] Fp8Keys(int layer) => (_fp8Keys ?? throw NotHeldAs(KvCacheDataType.Fp8))[layer];

    /// <summary>Values of <paramref name="layer"/> of an fp8 storage, e4m3 bytes (<see cref="Fp8E4M3"/>, scale 1). // (blocks, block_size, n_head_kv, head_dim)</summary>
    /// <exception cref="InvalidOperationException">The storage holds f32 or f16.</exception>
    public byte[] Fp8Values(int layer) => (_fp8Values ?? throw NotHeldAs(KvCacheDataType.Fp8))[layer];

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
        else if (_halfKeys is not null)
        {
            TensorPrimitives.ConvertToHalf(keys, _halfKeys[layer].AsSpan(offset, keys.Length));
            TensorPrimitives.ConvertToHalf(values, _halfValues![layer].AsSpan(offset, values.Length));
        }
        else
        {
            EncodeFp8(keys, _fp8Keys![layer].AsSpan(offset, keys.Length));
            EncodeFp8(values, _fp8Values![layer].AsSpan(offset, values.Length));
        }
    }

    /// <summary>Rounds <paramref name="source"/> to e4m3 bytes (scale 1: nearest, ties to even, saturating at ±448).</summary>
    public static void EncodeFp8(ReadOnlySpan<float> source, Span<byte> destination)
    {
        for (var i = 0; i < source.Length; i++)
        {
            destination[i] = Fp8E4M3.FromSingle(source[i]);
        }
    }

    /// <summary>The values of e4m3 bytes (scale 1).</summary>
    public static void DecodeFp8(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (var i = 0; i < source.Length; i++)
        {
            destination[i] = Fp8E4M3.ToSingle(source[i]);
        }
    }

    /// <summary>Reads <paramref name="destination"/>'s length of keys of <paramref name="layer"/> from element <paramref name="offset"/>, as f32.</summary>
    public void ReadKeys(int layer, int offset, Span<float> destination) => Read(_keys, _halfKeys, _fp8Keys, layer, offset, destination);

    /// <summary>Reads <paramref name="destination"/>'s length of values of <paramref name="layer"/> from element <paramref name="offset"/>, as f32.</summary>
    public void ReadValues(int layer, int offset, Span<float> destination) => Read(_values, _halfValues, _fp8Values, layer, offset, destination);

    /// <inheritdoc/>
    public void ReadBlock(int block, Span<byte> destination)
    {
        var span = BlockSpan(block, destination.Length) * KvCacheDataTypes.SizeOf(DataType);
        for (var l = 0; l < LayerCount; l++)
        {
            LayerBytes(l, value: false).Slice(block * span, span).CopyTo(destination[(2 * l * span)..]);
            LayerBytes(l, value: true).Slice(block * span, span).CopyTo(destination[(((2 * l) + 1) * span)..]);
        }
    }

    /// <inheritdoc/>
    public void WriteBlock(int block, ReadOnlySpan<byte> source)
    {
        var span = BlockSpan(block, source.Length) * KvCacheDataTypes.SizeOf(DataType);
        for (var l = 0; l < LayerCount; l++)
        {
            source.Slice(2 * l * span, span).CopyTo(LayerBytes(l, value: false).Slice(block * span, span));
            source.Slice(((2 * l) + 1) * span, span).CopyTo(LayerBytes(l, value: true).Slice(block * span, span));
        }
    }

    /// <summary>Copies block <paramref name="source"/> onto block <paramref name="destination"/> (copy-on-write forks).</summary>
    public void CopyBlock(int source, int destination)
    {
        var span = BlockSpan(source, BlockBytes) * KvCacheDataTypes.SizeOf(DataType);
        _ = BlockSpan(destination, BlockBytes);
        for (var l = 0; l < LayerCount; l++)
        {
            foreach (var value in (ReadOnlySpan<bool>)[false, true])
            {
                var bytes = LayerBytes(l, value);
                bytes.Slice(source * span, span).CopyTo(bytes.Slice(destination * span, span));
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

    private static void Read(float[][]? singles, Half[][]? halves, byte[][]? fp8, int layer, int offset, Span<float> destination)
    {
        if (singles is not null)
        {
            singles[layer].AsSpan(offset, destination.Length).CopyTo(destination);
        }
        else if (halves is not null)
        {
            TensorPrimitives.ConvertToSingle(halves[layer].AsSpan(offset, destination.Length), destination);
        }
        else
        {
            DecodeFp8(fp8![layer].AsSpan(offset, destination.Length), destination);
        }
    }

    private static T[][] Layers<T>(int layers, int perLayer)
    {
        var arrays = new T[layers][];
        for (var l = 0; l < layers; l++)
        {
            arrays[l] = new T[perLayer];
        }

        return arrays;
    }

    // One layer's keys or values as raw little-endian bytes, whatever the element type: block moves copy bytes.
    private Span<byte> LayerBytes(int layer, bool value) => DataType switch
    {
        KvCacheDataType.F32 => MemoryMarshal.AsBytes((value ? _values! : _keys!)[layer].AsSpan()),
        KvCacheDataType.F16 => MemoryMarshal.AsBytes((value ? _halfValues! : _halfKeys!)[layer].AsSpan()),
        _ => (value ? _fp8Values! : _fp8Keys!)[layer],
    };

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
