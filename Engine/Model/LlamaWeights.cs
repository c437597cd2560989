using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Fathom.Engine.Backends;
using Fathom.Engine.Backends.Cpu;
using Fathom.Engine.Quantization;
using Fathom.Gguf;

namespace Fathom.Engine.Model;

/// <summary>Finds, shape-checks and maps every tensor of a <c>llama</c>/<c>qwen2</c> model (GGUF file or model directory).</summary>
internal sealed unsafe class LlamaWeights
{
    private const string TokenEmbeddingName = "token_embd.weight";

    internal LlamaWeights(WeightMatrix tokenEmbedding, float[] outputNorm, WeightMatrix output, float[]? ropeDivisors, LlamaLayerWeights[] layers)
    {
        TokenEmbedding = tokenEmbedding;
        OutputNorm = outputNorm;
        Output = output;
        RopeDivisors = ropeDivisors;
        Layers = layers;
    }

    public WeightMatrix TokenEmbedding { get; } // (vocab, n_embd)

    public float[] OutputNorm { get; }           // (n_embd)

    /// <summary>The output projection; the token embedding when the file ties them.</summary>
    public WeightMatrix Output { get; }          // (vocab, n_embd)

    /// <summary>Per-pair frequency divisors from <c>rope_freqs.weight</c>, when present. // (rope_dims / 2)</summary>
    public float[]? RopeDivisors { get; }

    public IReadOnlyList<LlamaLayerWeights> Layers { get; }

    /// <summary>
    /// <see cref="ByteSize"/> split by the type the weights are held in (<see cref="CheckpointTypes.Name"/>: <c>Q8_0</c>,
    /// <c>BF16</c>, <c>fp8-e4m3-rows</c>…; the f32 norm and bias vectors as <c>F32</c>), so a quantized load shows what it became.
    /// </summary>
    public IReadOnlyDictionary<string, long> BytesByType()
    {
        var bytes = new SortedDictionary<string, long>(StringComparer.Ordinal);
        void Add(string type, long count) => bytes[type] = bytes.GetValueOrDefault(type) + count;
        void Matrix(WeightMatrix m) => Add(CheckpointTypes.Name(m.Type), m.RowBytes * m.Rows);
        Matrix(TokenEmbedding);
        if (!ReferenceEquals(Output, TokenEmbedding))
        {
            Matrix(Output);
        }

        Add(CheckpointTypes.Name(GgmlType.F32), OutputNorm.Length * 4L);
        foreach (var l in Layers)
        {
            foreach (var m in new[] { l.Query, l.Key, l.Value, l.Output, l.Gate, l.Up, l.Down })
            {
                Matrix(m);
            }

            Add(CheckpointTypes.Name(GgmlType.F32), 4L * (l.AttentionNorm.Length + l.FeedForwardNorm.Length + (l.QueryBias?.Length ?? 0) + (l.KeyBias?.Length ?? 0) + (l.ValueBias?.Length ?? 0)));
        }

        return bytes;
    }

    /// <summary>
    /// Bytes a decode step reads in full: <see cref="ByteSize"/> without the token embedding table, of which a step
    /// reads one row per token (unless the output matrix is that table).
    /// </summary>
    public long StepReadBytes => ByteSize - (ReferenceEquals(Output, TokenEmbedding) ? 0 : TokenEmbedding.RowBytes * TokenEmbedding.Rows);

    /// <summary>Bytes of every weight as held for the forward pass (matrices in their stored or quantized type, f32 vectors).</summary>
    public long ByteSize
    {
        get
        {
            long Matrix(WeightMatrix m) => m.RowBytes * m.Rows;
            long total = Matrix(TokenEmbedding) + (ReferenceEquals(Output, TokenEmbedding) ? 0 : Matrix(Output)) + (OutputNorm.Length * 4L);
            foreach (var l in Layers)
            {
                total += Matrix(l.Query) + Matrix(l.Key) + Matrix(l.Value) + Matrix(l.Output) + Matrix(l.Gate) + Matrix(l.Up) + Matrix(l.Down);
                total += 4L * (l.AttentionNorm.Length + l.FeedForwardNorm.Length + (l.QueryBias?.Length ?? 0) + (l.KeyBias?.Length ?? 0) + (l.ValueBias?.Length ?? 0));
            }

            return total;
        }
    }

    public static LlamaWeights Load(GgufFile file, LlamaHyperParameters hp, Func<GgmlType, bool> supported, HugePageWeights? copies = null)
    {
        using var source = new GgufTensorSource(file);
        return Load(source, hp, supported, copies);
    }

    /// <summary>
    /// Loads every tensor of <paramref name="source"/>. With <paramref name="copies"/>, matrices are copied into it
    /// (interleaved for the CPU kernels when <paramref name="interleave"/>); float matrices are quantized on the way
    /// when <paramref name="quantization"/> asks, which needs <paramref name="copies"/>.
    /// </summary>
    public static LlamaWeights Load(ModelTensorSource source, LlamaHyperParameters hp, Func<GgmlType, bool> supported, HugePageWeights? copies = null,
        WeightQuantization quantization = WeightQuantization.None, bool interleave = true)
    {
        var embd = hp.EmbeddingLength;
        var isDirectory = source.Gguf is null;

        ModelTensor Find(string name) => source.Find(name)
            ?? throw new ModelLoadException(source.Path, $"tensor '{(isDirectory ? HuggingFaceTensorNames.FromGguf(name) ?? name : name)}' is missing");

        string Origin(string name) => isDirectory ? $"config.json ({HuggingFaceTensorNames.ShapeKeys(name)})" : "the hyper-parameters";

        // The token embedding is read a row at a time, so it keeps the file's layout; the rest may be interleaved.
        var embeddingMapped = EmbeddingStaysMapped(source, quantization);
        WeightMatrix Matrix(string name, long columns, long rows)
        {
            if (source.Repack(name, columns, rows) is { } repacked)
            {
                if (!supported(repacked.Type))
                {
                    throw new ModelLoadException(source.Path, $"tensor '{HuggingFaceTensorNames.FromGguf(name) ?? name}' is {CheckpointTypes.Name(repacked.Type)}, which this backend does not support");
                }

                // AWQ/GPTQ rows are regrouped in their own pinned array for the CPU's int8-activation kernels.
                var interleaved = interleave && name != TokenEmbeddingName && repacked.Type == CheckpointTypes.Int4ZeroPoint
                    && InterleavedInt4ZeroPointLayout.IsSupported && InterleavedInt4ZeroPointLayout.PackInPlace(repacked.Data, (int)columns, (int)rows);
                var pinned = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(repacked.Data));
                return new WeightMatrix(name, repacked.Type, pinned, (int)columns, (int)rows, interleaved, repacked.ColumnOrder);
            }

            var t = Find(name);
            if (t.Dimensions.Length != 2 || t.Dimensions[0] != columns || t.Dimensions[1] != rows)
            {
                throw new ModelLoadException(t.FilePath, $"tensor '{t.SourceName}' has shape {t.ShapeText}, expected {t.ShapeTextOf(columns, rows)} from {Origin(name)}");
            }

            var target = WeightQuantizations.TargetFor(quantization, t.Type, columns);
            var type = target ?? t.Type;
            if (!supported(type))
            {
                throw new ModelLoadException(t.FilePath, $"tensor '{t.SourceName}' has type {type}, which this backend does not support");
            }

            var pack = interleave && name != TokenEmbeddingName;
            if (target is { } quantized)
            {
                if (copies is null)
                {
                    throw new InvalidOperationException("quantizing on load needs a weight arena");
                }

                return Quantize(t, quantized, (int)columns, (int)rows, copies, pack);
            }

            return copies is null || (embeddingMapped && name == TokenEmbeddingName)
                ? new WeightMatrix(name, t.Type, t.Data, (int)columns, (int)rows)
                : copies.Place(name, t.Type, t.Data, (int)columns, (int)rows, pack);
        }

        float[] Vector(string name, long length)
        {
            var t = Find(name);
            if (t.ElementCount != length || t.Dimensions[0] != length)
            {
                throw new ModelLoadException(t.FilePath, $"tensor '{t.SourceName}' has shape {t.ShapeText}, expected [{length}] from {Origin(name)}");
            }

            if (!RowDecoder.IsFloat(t.Type))
            {
                throw new ModelLoadException(t.FilePath, $"tensor '{t.SourceName}' has type {t.Type}; vectors must be F32, F16 or BF16");
            }

            var values = new float[length];
            RowDecoder.Decode(t.Type, t.Data, values);
            return values;
        }

        var vocab = hp.VocabularySize;
        var tokenEmbedding = Matrix(TokenEmbeddingName, embd, vocab);
        var output = source.Find("output.weight") is null ? tokenEmbedding : Matrix("output.weight", embd, vocab);
        var ropeDivisors = source.Find("rope_freqs.weight") is null ? null : Vector("rope_freqs.weight", hp.RopeDimensionCount / 2);
        var layers = new LlamaLayerWeights[hp.LayerCount];
        for (var l = 0; l < layers.Length; l++)
        {
            var p = $"blk.{l}.";
            layers[l] = new LlamaLayerWeights
            {
                AttentionNorm = Vector(p + "attn_norm.weight", embd),
                Query = Matrix(p + "attn_q.weight", embd, hp.QueryLength),
                Key = Matrix(p + "attn_k.weight", embd, hp.KvLength),
                Value = Matrix(p + "attn_v.weight", embd, hp.KvLength),
                QueryBias = hp.HasQkvBias ? Vector(p + "attn_q.bias", hp.QueryLength) : null,
                KeyBias = hp.HasQkvBias ? Vector(p + "attn_k.bias", hp.KvLength) : null,
                ValueBias = hp.HasQkvBias ? Vector(p + "attn_v.bias", hp.KvLength) : null,
                Output = Matrix(p + "attn_output.weight", hp.QueryLength, embd),
                FeedForwardNorm = Vector(p + "ffn_norm.weight", embd),
                Gate = Matrix(p + "ffn_gate.weight", embd, hp.FeedForwardLength),
                Up = Matrix(p + "ffn_up.weight", embd, hp.FeedForwardLength),
                Down = Matrix(p + "ffn_down.weight", hp.FeedForwardLength, embd),
            };
        }

        return new LlamaWeights(tokenEmbedding, Vector("output_norm.weight", embd), output, ropeDivisors, layers);
    }

    /// <summary>Bytes the arena needs for <paramref name="source"/>'s matrices under <paramref name="quantization"/>, padding included.</summary>
    public static long ArenaCapacity(ModelTensorSource source, WeightQuantization quantization) =>
        source.Tensors.Where(t => t.Dimensions.Length == 2 && !(t.Name == TokenEmbeddingName && EmbeddingStaysMapped(source, quantization))).Sum(t =>
            HugePageWeights.Capacity(WeightQuantizations.TargetFor(quantization, t.Type, t.Dimensions[0]) ?? t.Type, t.Dimensions[0], t.Dimensions[1]));

    /// <summary>
    /// Whether the token embedding is read in place from the file's mapping even where the other matrices are copied
    /// into an arena: a step reads one row of it per token, so copying it (282 MiB for Llama-3-8B's Q4_K table) would
    /// only add resident memory, where mapped rows are clean file pages that fault in when read and that the kernel may
    /// drop. It is copied when the output projection is the same table (a tied model reads all of it every step) and
    /// when it is quantized on load (the quantized rows live in the arena).
    /// </summary>
    internal static bool EmbeddingStaysMapped(ModelTensorSource source, WeightQuantization quantization) =>
        source.Find("output.weight") is not null
        && source.Find(TokenEmbeddingName) is { } t
        && (t.Dimensions.Length != 2 || WeightQuantizations.TargetFor(quantization, t.Type, t.Dimensions[0]) is null);

    // Rows are decoded to f32 and quantized by the project's own quantizers (llama.cpp's byte for byte; FP8 per
    // channel as the compressed-tensors/FBGEMM quantizers do), in parallel.
    private static WeightMatrix Quantize(ModelTensor t, GgmlType target, int columns, int rows, HugePageWeights copies, bool interleave)
    {
        var sourceRowBytes = GgmlTypeTraits.RowBytes(t.Type, columns);
        var rowBytes = CheckpointTypes.RowBytes(target, columns);
        var bytes = rowBytes * rows;
        var scratch = (byte*)NativeMemory.Alloc((nuint)bytes);
        try
        {
            var data = t.Data;
            var type = t.Type;
            Parallel.For(0, (rows + 63) / 64, () => new float[columns], (chunk, _, row) =>
            {
                var end = Math.Min(rows, (chunk + 1) * 64);
                for (var r = (int)chunk * 64; r < end; r++)
                {
                    RowDecoder.Decode(type, data + (r * sourceRowBytes), row);
                    var destination = new Span<byte>(scratch + (r * rowBytes), (int)rowBytes);
                    if (target == CheckpointTypes.Fp8Rows)
                    {
                        Fp8Rows.Quantize(row, destination, columns);
                    }
                    else
                    {
                        TensorFormats.QuantizeRow(target, row, destination, columns);
                    }
                }

                return row;
            }, _ => { });
            HugePageWeights.Release(t.Data, t.ByteSize);
            return copies.Place(t.Name, target, scratch, columns, rows, interleave);
        }
        finally
        {
            NativeMemory.Free(scratch);
        }
    }
}
