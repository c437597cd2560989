using Fathom.Planner.Models;

namespace Fathom.Planner.Formats;

/// <summary>
/// The bytes a model's weights occupy in one format, exactly (per tensor, block and group overheads included),
/// and the bytes one decode step has to stream from memory.
/// </summary>
/// <param name="FormatId">The weight format (or <c>gguf</c> for a file's own mix).</param>
/// <param name="TotalBytes">All weight bytes.</param>
/// <param name="EmbeddingBytes">Bytes of the token-embedding matrix.</param>
/// <param name="OutputBytes">Bytes of the output projection (0 when tied to the embedding).</param>
/// <param name="DecodeReadBytes">Bytes read per decode step: everything but the embedding table, of which one row is read (unless tied, when it is the output too).</param>
/// <param name="BytesByStorage">Bytes per storage type (e.g. Q4_K, Q6_K, F32), the mix a file or recipe uses.</param>
/// <param name="Kernel">The decode kernel family.</param>
/// <param name="Compute">The precision prefill computes at.</param>
/// <param name="Source">Where the figure comes from: an estimate from a recipe, or a GGUF header.</param>
/// <param name="EmbeddingStorage">The storage type of the token embedding (a key of <paramref name="BytesByStorage"/>).</param>
public sealed record WeightBudget(
    string FormatId,
    long TotalBytes,
    long EmbeddingBytes,
    long OutputBytes,
    long DecodeReadBytes,
    IReadOnlyDictionary<string, long> BytesByStorage,
    KernelClass Kernel,
    ComputePrecision Compute,
    string Source,
    string? EmbeddingStorage = null)
{
    /// <summary>
    /// <see cref="DecodeReadBytes"/> split by storage type: <see cref="BytesByStorage"/> less the embedding table (unless
    /// tied), which a step reads one row of. Without <see cref="EmbeddingStorage"/> the table is taken from the largest type.
    /// </summary>
    public IReadOnlyDictionary<string, long> DecodeReadBytesByStorage
    {
        get
        {
            var result = new SortedDictionary<string, long>(BytesByStorage.ToDictionary(), StringComparer.Ordinal);
            if (DecodeReadBytes < TotalBytes && result.Count > 0)
            {
                var key = EmbeddingStorage is { } e && result.ContainsKey(e) ? e : result.MaxBy(kv => kv.Value).Key;
                result[key] -= TotalBytes - DecodeReadBytes;
            }

            return result;
        }
    }

    /// <summary>Builds the tensor list of <paramref name="shape"/> and stores each tensor as <paramref name="format"/> says.</summary>
    public static WeightBudget Estimate(ModelShape shape, WeightFormat format)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(format);
        var byStorage = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long total = 0;

        long Add(TensorRole role, int layer, long rows, long rowLength)
        {
            var storage = format.StorageFor(role, layer, shape.Layers);
            var bytes = (rows * storage.RowBits(rowLength) + 7) / 8;
            byStorage[storage.Name] = byStorage.GetValueOrDefault(storage.Name) + bytes;
            total += bytes;
            return bytes;
        }

        var embedding = Add(TensorRole.Embedding, 0, shape.VocabSize, shape.HiddenSize);
        var embeddingStorage = format.StorageFor(TensorRole.Embedding, 0, shape.Layers).Name;
        for (var layer = 0; layer < shape.Layers; layer++)
        {
            Add(TensorRole.AttentionQuery, layer, shape.QueryWidth, shape.HiddenSize);
            Add(TensorRole.AttentionKey, layer, shape.KvWidth, shape.HiddenSize);
            Add(TensorRole.AttentionValue, layer, shape.KvWidth, shape.HiddenSize);
            Add(TensorRole.AttentionOutput, layer, shape.HiddenSize, shape.QueryWidth);
            Add(TensorRole.FfnGate, layer, shape.FfnSize, shape.HiddenSize);
            Add(TensorRole.FfnUp, layer, shape.FfnSize, shape.HiddenSize);
            Add(TensorRole.FfnDown, layer, shape.HiddenSize, shape.FfnSize);
            Add(TensorRole.Vector, layer, 1, shape.VectorParametersPerLayer);
        }

        Add(TensorRole.Vector, shape.Layers, 1, shape.HiddenSize);
        var output = shape.TiedEmbeddings ? 0 : Add(TensorRole.Output, shape.Layers, shape.VocabSize, shape.HiddenSize);
        return new WeightBudget(format.Id, total, embedding, output, shape.TiedEmbeddings ? total : total - embedding, byStorage,
            format.Kernel, format.Compute, $"estimated from the model shape with the {format.Id} recipe ({format.Description})", embeddingStorage);
    }

    /// <summary>Bits per weight averaged over all parameters of <paramref name="shape"/>.</summary>
    public double BitsPerWeight(ModelShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return TotalBytes * 8.0 / shape.Parameters;
    }
}
