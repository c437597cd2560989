using Fathom.Gguf;
using Fathom.Engine.Tests.Backends;

namespace Fathom.Engine.Tests.Model;

/// <summary>The shape of a synthetic Llama model.</summary>
internal sealed record SyntheticLlamaShape(int EmbeddingLength, int Layers, int Heads, int KvHeads, int FeedForwardLength, int Vocabulary, string Architecture = "llama", float RopeTheta = 10000f)
{
    /// <summary>Small but with every feature: dims ≥ 256 (a whole K-quant super-block), GQA 8/2, tied nothing.</summary>
    public static SyntheticLlamaShape Small { get; } = new(256, 2, 8, 2, 512, 384);

    /// <summary><see cref="Small"/> as Qwen2: q/k/v biases and the NeoX (rotate-half) rotation.</summary>
    public static SyntheticLlamaShape SmallQwen2 { get; } = Small with { Architecture = "qwen2" };

    /// <summary>Llama-3.2-1B's transformer with a 32000-token vocabulary.</summary>
    public static SyntheticLlamaShape Llama1B { get; } = new(2048, 16, 32, 8, 8192, 32000);

    /// <summary>Llama-3.1-8B's transformer and vocabulary size (head_dim 128, rope_theta 500000; about 4.9 GB as Q4_K_M).</summary>
    public static SyntheticLlamaShape Llama8B { get; } = new(4096, 32, 32, 8, 14336, 128256, RopeTheta: 500000f);

    /// <summary>The shape a benchmark's <c>--shape</c> names: small, 1b or 8b.</summary>
    public static SyntheticLlamaShape FromName(string name) => name switch
    {
        "small" => Small,
        "1b" => Llama1B,
        "8b" => Llama8B,
        _ => throw new ArgumentException($"--shape must be small, 1b or 8b, not '{name}'"),
    };

    /// <summary>The name <see cref="FromName"/> takes for this shape (used in cached file names).</summary>
    public string Name => this == Small ? "small" : this == Llama1B ? "1b" : this == Llama8B ? "8b" : $"{EmbeddingLength}x{Layers}";
}

/// <summary>
/// Writes Llama-architecture GGUF files with seeded random weights that llama.cpp loads: a SentencePiece-style
/// vocabulary (3 specials, 256 byte tokens, then made-up pieces). Weights are uniform with a scale that keeps
/// activations O(1) through the layers; the output matrix is scaled up so logits are peaked, which keeps
/// greedy decoding away from near-ties.
/// </summary>
internal static class SyntheticLlama
{
    /// <summary>
    /// llama.cpp's Q4_K_M mix for a model of <paramref name="layers"/> layers: Q6_K for <c>output.weight</c> and for
    /// <c>attn_v</c>/<c>ffn_down</c> in the layers its <c>use_more_bits</c> picks (the first and last eighth, and every
    /// third between), Q4_K elsewhere.
    /// </summary>
    public static Func<string, GgmlType> Q4KMedium(int layers) => name =>
    {
        if (name == "output.weight")
        {
            return GgmlType.Q6_K;
        }

        if (name.EndsWith(".attn_v.weight", StringComparison.Ordinal) || name.EndsWith(".ffn_down.weight", StringComparison.Ordinal))
        {
            var i = int.Parse(name.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture);
            if (i < layers / 8 || i >= 7 * layers / 8 || (i - (layers / 8)) % 3 == 2)
            {
                return GgmlType.Q6_K;
            }
        }

        return GgmlType.Q4_K;
    };

    /// <summary>
    /// Writes the model with every matrix in <paramref name="type"/>, or in <paramref name="typeOf"/>'s choice per tensor
    /// name. With <paramref name="pooled"/> (quantized types only) each row is assembled from a seeded pool of quantized
    /// 256-element chunks (see WritePooled): the same distribution, and the same file whatever the core count, but not
    /// the sequential file of the same seed; an 8B-shape Q4_K_M file then takes seconds of quantizing rather than an hour.
    /// With <paramref name="tiedOutput"/> the file has no <c>output.weight</c>, so the output projection is the token embedding.
    /// </summary>
    public static void Write(string path, SyntheticLlamaShape shape, GgmlType type, int seed = 1234, Func<string, GgmlType>? typeOf = null, bool pooled = false, bool tiedOutput = false)
    {
        var w = new GgufWriter();
        var arch = shape.Architecture;
        var headDim = shape.EmbeddingLength / shape.Heads;
        w.AddMetadata("general.architecture", arch);
        w.AddMetadata("general.name", $"fathom-synthetic-{type}");
        w.AddMetadata($"{arch}.context_length", (uint)2048);
        w.AddMetadata($"{arch}.embedding_length", (uint)shape.EmbeddingLength);
        w.AddMetadata($"{arch}.block_count", (uint)shape.Layers);
        w.AddMetadata($"{arch}.feed_forward_length", (uint)shape.FeedForwardLength);
        w.AddMetadata($"{arch}.attention.head_count", (uint)shape.Heads);
        w.AddMetadata($"{arch}.attention.head_count_kv", (uint)shape.KvHeads);
        w.AddMetadata($"{arch}.rope.dimension_count", (uint)headDim);
        w.AddMetadata($"{arch}.rope.freq_base", shape.RopeTheta);
        w.AddMetadata($"{arch}.attention.layer_norm_rms_epsilon", 1e-5f);
        AddVocabulary(w, shape.Vocabulary);

        var rng = new UniformSource((ulong)seed);
        var pools = pooled ? new Dictionary<(GgmlType, float), byte[]>() : null;
        var embd = shape.EmbeddingLength;
        var q = shape.Heads * headDim;
        var kv = shape.KvHeads * headDim;
        var ff = shape.FeedForwardLength;
        Matrix(w, "token_embd.weight", type, embd, shape.Vocabulary, 1f, rng.Fork(), typeOf, pools);
        for (var l = 0; l < shape.Layers; l++)
        {
            var p = $"blk.{l}.";
            Norm(w, p + "attn_norm.weight", embd, rng.Fork());
            Matrix(w, p + "attn_q.weight", type, embd, q, MathF.Sqrt(3f / embd), rng.Fork(), typeOf, pools);
            Matrix(w, p + "attn_k.weight", type, embd, kv, MathF.Sqrt(3f / embd), rng.Fork(), typeOf, pools);
            Matrix(w, p + "attn_v.weight", type, embd, kv, MathF.Sqrt(3f / embd), rng.Fork(), typeOf, pools);
            if (arch == "qwen2")
            {
                // Qwen2 adds a bias to the q/k/v projections; large enough that a loader dropping it changes the tokens.
                Bias(w, p + "attn_q.bias", q, rng.Fork());
                Bias(w, p + "attn_k.bias", kv, rng.Fork());
                Bias(w, p + "attn_v.bias", kv, rng.Fork());
            }
            Matrix(w, p + "attn_output.weight", type, q, embd, MathF.Sqrt(3f / q), rng.Fork(), typeOf, pools);
            Norm(w, p + "ffn_norm.weight", embd, rng.Fork());
            Matrix(w, p + "ffn_gate.weight", type, embd, ff, MathF.Sqrt(3f / embd), rng.Fork(), typeOf, pools);
            Matrix(w, p + "ffn_up.weight", type, embd, ff, MathF.Sqrt(3f / embd), rng.Fork(), typeOf, pools);
            Matrix(w, p + "ffn_down.weight", type, ff, embd, MathF.Sqrt(3f / ff), rng.Fork(), typeOf, pools);
        }

        Norm(w, "output_norm.weight", embd, rng.Fork());
        if (!tiedOutput)
        {
            Matrix(w, "output.weight", type, embd, shape.Vocabulary, 4 * MathF.Sqrt(3f / embd), rng.Fork(), typeOf, pools);
        }

        w.WriteTo(path);
    }

    private static void AddVocabulary(GgufWriter w, int size)
    {
        var tokens = new string[size];
        var scores = new float[size];
        var types = new int[size];
        tokens[0] = "<unk>";
        tokens[1] = "<s>";
        tokens[2] = "</s>";
        types[0] = 2;
        types[1] = 3;
        types[2] = 3;
        for (var b = 0; b < 256 && b + 3 < size; b++)
        {
            tokens[b + 3] = $"<0x{b:X2}>";
            types[b + 3] = 6;
        }

        for (var i = 259; i < size; i++)
        {
            tokens[i] = "\u2581w" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            scores[i] = -i;
            types[i] = 1;
        }

        w.AddMetadata("tokenizer.ggml.model", "llama");
        w.AddMetadata("tokenizer.ggml.tokens", tokens);
        w.AddMetadata("tokenizer.ggml.scores", scores);
        w.AddMetadata("tokenizer.ggml.token_type", types);
        w.AddMetadata("tokenizer.ggml.bos_token_id", (uint)1);
        w.AddMetadata("tokenizer.ggml.eos_token_id", (uint)2);
        w.AddMetadata("tokenizer.ggml.unknown_token_id", (uint)0);
    }

    private static void Norm(GgufWriter w, string name, int length, UniformSource rng)
    {
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = 1f + (0.2f * rng.Next());
        }

        w.AddTensor(name, GgmlType.F32, [length], TensorEncoding.Encode(GgmlType.F32, values));
    }

    private static void Bias(GgufWriter w, string name, int length, UniformSource rng)
    {
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = 0.5f * rng.Next();
        }

        w.AddTensor(name, GgmlType.F32, [length], TensorEncoding.Encode(GgmlType.F32, values));
    }

    private static void Matrix(GgufWriter w, string name, GgmlType type, int columns, int rows, float scale, UniformSource rng, Func<string, GgmlType>? typeOf, Dictionary<(GgmlType, float), byte[]>? pools)
    {
        type = typeOf?.Invoke(name) ?? type;
        if (pools is not null)
        {
            w.AddTensor(name, type, [columns, rows], stream => WritePooled(stream, type, columns, rows, scale, rng, pools!));
            return;
        }

        w.AddTensor(name, type, [columns, rows], stream =>
        {
            var row = new float[columns];
            for (var r = 0; r < rows; r++)
            {
                for (var i = 0; i < columns; i++)
                {
                    row[i] = scale * rng.Next();
                }

                stream.Write(TensorEncoding.Encode(type, row));
            }
        });
    }

    // A pool of 16384 random 256-element chunks per (type, scale), quantized once, from which every row is assembled
    // chunk by chunk at random. Q8_0/Q4_0/Q4_K/Q6_K blocks are quantized independently of each other, so the bytes are
    // exactly what the quantizer makes of the concatenated floats: a uniformly random matrix, written at copy speed.
    private static void WritePooled(Stream stream, GgmlType type, int columns, int rows, float scale, UniformSource rng, Dictionary<(GgmlType, float), byte[]> pools)
    {
        const int Chunk = 256;
        const int PoolChunks = 16384;
        if (columns % Chunk != 0 || type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16)
        {
            throw new ArgumentException($"pooled writing needs a quantized type and columns a multiple of {Chunk}, not {type} × {columns}");
        }

        var chunkBytes = TensorEncoding.Encode(type, new float[Chunk]).Length;
        if (!pools.TryGetValue((type, scale), out var pool))
        {
            pool = new byte[PoolChunks * chunkBytes];
            var seeds = Enumerable.Range(0, PoolChunks / 64).Select(_ => rng.NextSeed()).ToArray();
            Parallel.For(0, seeds.Length, () => new float[Chunk], (part, _, values) =>
            {
                var source = new UniformSource(seeds[part]);
                for (var c = part * 64; c < (part + 1) * 64; c++)
                {
                    for (var i = 0; i < Chunk; i++)
                    {
                        values[i] = scale * source.Next();
                    }

                    TensorEncoding.EncodeInto(type, values, pool.AsSpan(c * chunkBytes, chunkBytes));
                }

                return values;
            }, _ => { });
            pools[(type, scale)] = pool;
        }

        var row = new byte[columns / Chunk * chunkBytes];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns / Chunk; c++)
            {
                pool.AsSpan(rng.NextIndex(PoolChunks) * chunkBytes, chunkBytes).CopyTo(row.AsSpan(c * chunkBytes));
            }

            stream.Write(row);
        }
    }

    /// <summary>xorshift64* uniforms in [-1, 1): fast enough for gigabyte models, and seeded.</summary>
    private sealed class UniformSource(ulong seed)
    {
        private ulong _state = seed * 0x9E3779B97F4A7C15UL | 1;

        public float Next()
        {
            _state ^= _state >> 12;
            _state ^= _state << 25;
            _state ^= _state >> 27;
            var bits = (_state * 0x2545F4914F6CDD1DUL) >> 40; // 24 bits
            return (bits / (float)(1 << 23)) - 1f;
        }

        public int NextIndex(int count)
        {
            Next();
            return (int)((_state >> 33) % (ulong)count);
        }

        public ulong NextSeed()
        {
            Next();
            return _state;
        }

        public UniformSource Fork() => new(((ulong)(Next() * int.MaxValue) << 20) ^ _state);
    }
}
