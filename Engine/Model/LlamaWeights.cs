using Fathom.Engine.Backends;
using Fathom.Engine.Backends.Cpu;
using Fathom.Gguf;

namespace Fathom.Engine.Model;

/// <summary>Finds, shape-checks and maps every tensor of a <c>llama</c>/<c>qwen2</c> GGUF file.</summary>
internal sealed unsafe class LlamaWeights
{
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

    public static LlamaWeights Load(GgufFile file, LlamaHyperParameters hp, Func<GgmlType, bool> supported, HugePageWeights? copies = null)
    {
        var path = file.FilePath;
        var embd = hp.EmbeddingLength;

        GgufTensorInfo Find(string name) => file.FindTensor(name) ?? throw new ModelLoadException(path, $"tensor '{name}' is missing");

        // The token embedding is read a row at a time, so it keeps the file's layout; the rest may be interleaved.
        WeightMatrix Matrix(string name, long columns, long rows)
        {
            var t = Find(name);
            if (t.Dimensions.Length != 2 || t.Dimensions[0] != columns || t.Dimensions[1] != rows)
            {
                throw new ModelLoadException(path, $"tensor '{name}' has shape {t.ShapeText}, expected [{columns}, {rows}] from the hyper-parameters");
            }

            if (!supported(t.Type))
            {
                throw new ModelLoadException(path, $"tensor '{name}' has type {t.Type}, which this backend does not support");
            }

            var data = file.GetTensorPointer(t);
            return copies is null
                ? new WeightMatrix(name, t.Type, data, (int)columns, (int)rows)
                : copies.Place(name, t.Type, data, (int)columns, (int)rows, interleave: name != "token_embd.weight");
        }

        float[] Vector(string name, long length)
        {
            var t = Find(name);
            if (t.ElementCount != length || t.Dimensions[0] != length)
            {
                throw new ModelLoadException(path, $"tensor '{name}' has shape {t.ShapeText}, expected [{length}]");
            }

            if (!RowDecoder.IsFloat(t.Type))
            {
                throw new ModelLoadException(path, $"tensor '{name}' has type {t.Type}; vectors must be F32, F16 or BF16");
            }

            var values = new float[length];
            RowDecoder.Decode(t.Type, file.GetTensorPointer(t), values);
            return values;
        }

        var vocab = hp.VocabularySize;
        var tokenEmbedding = Matrix("token_embd.weight", embd, vocab);
        var output = file.FindTensor("output.weight") is null ? tokenEmbedding : Matrix("output.weight", embd, vocab);
        var ropeDivisors = file.FindTensor("rope_freqs.weight") is null ? null : Vector("rope_freqs.weight", hp.RopeDimensionCount / 2);
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
}

