using System.Globalization;
using System.Runtime.InteropServices;
using Fathom.Gguf;

namespace Fathom.EngineService;

/// <summary>
/// Writes a tiny Llama GGUF (F32, dim 64, 2 layers, GQA 4/2, a 512-token SentencePiece-style vocabulary with byte
/// fallback) from a fixed seed: the same bytes on every machine, so outputs are reproducible. Its weights are
/// random, so it writes nonsense — it exists to exercise the serving path, not to chat.
/// </summary>
internal static class SyntheticModel
{
    /// <summary>Bumped whenever the written bytes change (names the cached file).</summary>
    public const int Version = 1;

    private const int Embedding = 64;
    private const int Layers = 2;
    private const int Heads = 4;
    private const int KvHeads = 2;
    private const int FeedForward = 128;
    private const int Vocabulary = 512;
    private const ulong Seed = 20261128;

    public static void Write(string path)
    {
        var w = new GgufWriter();
        int headDim = Embedding / Heads;
        w.AddMetadata("general.architecture", "llama");
        w.AddMetadata("general.name", "fathom-builtin");
        w.AddMetadata("llama.context_length", (uint)1024);
        w.AddMetadata("llama.embedding_length", (uint)Embedding);
        w.AddMetadata("llama.block_count", (uint)Layers);
        w.AddMetadata("llama.feed_forward_length", (uint)FeedForward);
        w.AddMetadata("llama.attention.head_count", (uint)Heads);
        w.AddMetadata("llama.attention.head_count_kv", (uint)KvHeads);
        w.AddMetadata("llama.rope.dimension_count", (uint)headDim);
        w.AddMetadata("llama.rope.freq_base", 10000f);
        w.AddMetadata("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        AddVocabulary(w);

        ulong state = Seed;
        Matrix(w, "token_embd.weight", Embedding, Vocabulary, 1f, ref state);
        for (int l = 0; l < Layers; l++)
        {
            string p = $"blk.{l}.";
            Norm(w, p + "attn_norm.weight", ref state);
            Matrix(w, p + "attn_q.weight", Embedding, Heads * headDim, MathF.Sqrt(3f / Embedding), ref state);
            Matrix(w, p + "attn_k.weight", Embedding, KvHeads * headDim, MathF.Sqrt(3f / Embedding), ref state);
            Matrix(w, p + "attn_v.weight", Embedding, KvHeads * headDim, MathF.Sqrt(3f / Embedding), ref state);
            Matrix(w, p + "attn_output.weight", Heads * headDim, Embedding, MathF.Sqrt(3f / Embedding), ref state);
            Norm(w, p + "ffn_norm.weight", ref state);
            Matrix(w, p + "ffn_gate.weight", Embedding, FeedForward, MathF.Sqrt(3f / Embedding), ref state);
            Matrix(w, p + "ffn_up.weight", Embedding, FeedForward, MathF.Sqrt(3f / Embedding), ref state);
            Matrix(w, p + "ffn_down.weight", FeedForward, Embedding, MathF.Sqrt(3f / FeedForward), ref state);
        }

        Norm(w, "output_norm.weight", ref state);
        Matrix(w, "output.weight", Embedding, Vocabulary, 4 * MathF.Sqrt(3f / Embedding), ref state);
        w.WriteTo(path);
    }

    // <unk> <s> </s>, 256 byte tokens, then letters and made-up words so that any text tokenizes.
    private static void AddVocabulary(GgufWriter w)
    {
        var tokens = new string[Vocabulary];
        var scores = new float[Vocabulary];
        var types = new int[Vocabulary];
        (tokens[0], types[0]) = ("<unk>", 2);
        (tokens[1], types[1]) = ("<s>", 3);
        (tokens[2], types[2]) = ("</s>", 3);
        for (int b = 0; b < 256; b++)
        {
            (tokens[b + 3], types[b + 3]) = ($"<0x{b:X2}>", 6);
        }

        for (int i = 259; i < Vocabulary; i++)
        {
            int k = i - 259;
            tokens[i] = k < 26 ? ((char)('a' + k)).ToString() : k < 52 ? "\u2581" + (char)('a' + k - 26) : "\u2581w" + i.ToString(CultureInfo.InvariantCulture);
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

    private static void Norm(GgufWriter w, string name, ref ulong state)
    {
        var values = new float[Embedding];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = 1f + (0.2f * Next(ref state));
        }

        w.AddTensor(name, GgmlType.F32, [Embedding], MemoryMarshal.AsBytes(values.AsSpan()));
    }

    private static void Matrix(GgufWriter w, string name, int columns, int rows, float scale, ref ulong state)
    {
        var values = new float[columns * rows]; // (rows, columns)
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = scale * Next(ref state);
        }

        w.AddTensor(name, GgmlType.F32, [columns, rows], MemoryMarshal.AsBytes(values.AsSpan()));
    }

    // xorshift64*: uniform in [-1, 1).
    private static float Next(ref ulong state)
    {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        ulong bits = (state * 0x2545F4914F6CDD1DUL) >> 40;
        return (bits / (float)(1 << 23)) - 1f;
    }
}
