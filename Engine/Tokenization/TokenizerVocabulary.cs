namespace Fathom.Engine.Tokenization;

/// <summary>
/// Everything a tokenizer is built from, named after GGUF's <c>tokenizer.ggml.*</c> keys. Null flags and ids mean
/// "not in the file": the tokenizer then applies llama.cpp's defaults for the <see cref="Model"/>.
/// </summary>
public sealed record TokenizerVocabulary
{
    /// <summary>
    /// GGUF <c>tokenizer.ggml.model</c>: <c>llama</c> (SentencePiece BPE) or <c>gpt2</c> (byte-level BPE); or <c>bpe</c>,
    /// a Hugging Face character-level BPE with ranked merges (Llama 2 / Mistral <c>tokenizer.json</c>), which GGUF does not name.
    /// </summary>
    public required string Model { get; init; }

    /// <summary>GGUF <c>tokenizer.ggml.pre</c>: the pre-tokenizer of a <c>gpt2</c> vocabulary (e.g. <c>llama-bpe</c>).</summary>
    public string? Pre { get; init; }

    /// <summary>GGUF <c>tokenizer.ggml.tokens</c>: the text of each token, indexed by id.</summary>
    public required IReadOnlyList<string> Tokens { get; init; }

    /// <summary>GGUF <c>tokenizer.ggml.scores</c>: SentencePiece merge scores (higher merges first).</summary>
    public IReadOnlyList<float>? Scores { get; init; }

    /// <summary>GGUF <c>tokenizer.ggml.token_type</c>: a <see cref="TokenType"/> per token.</summary>
    public IReadOnlyList<int>? TokenTypes { get; init; }

    /// <summary>
    /// GGUF <c>tokenizer.ggml.merges</c>: byte-level BPE merges (<c>"left right"</c>, rank = index). Null for a
    /// tiktoken-style vocabulary, which merges the adjacent pair whose concatenation has the lowest token id.
    /// </summary>
    public IReadOnlyList<string>? Merges { get; init; }

    /// <summary>A <see cref="BosId"/> or <see cref="EosId"/> that says "this vocabulary has none" (null means "use the model's default").</summary>
    public const int NoToken = -1;

    /// <summary>GGUF <c>tokenizer.ggml.bos_token_id</c>.</summary>
    public int? BosId { get; init; }

    /// <summary>GGUF <c>tokenizer.ggml.eos_token_id</c>.</summary>
    public int? EosId { get; init; }

    /// <summary>GGUF <c>tokenizer.ggml.eot_token_id</c> (end of turn).</summary>
    public int? EotId { get; init; }

    /// <summary>GGUF <c>tokenizer.ggml.eom_token_id</c> (end of message).</summary>
    public int? EomId { get; init; }

    /// <summary>GGUF <c>tokenizer.ggml.unknown_token_id</c>.</summary>
    public int? UnknownId { get; init; }

    /// <summary>GGUF <c>tokenizer.ggml.padding_token_id</c>.</summary>
    public int? PaddingId { get; init; }

    /// <summary>GGUF <c>tokenizer.ggml.add_bos_token</c>.</summary>
    public bool? AddBos { get; init; }

    /// <summary>GGUF <c>tokenizer.ggml.add_eos_token</c>.</summary>
    public bool? AddEos { get; init; }

    /// <summary>GGUF <c>tokenizer.ggml.add_space_prefix</c> (SentencePiece's add_dummy_prefix).</summary>
    public bool? AddSpacePrefix { get; init; }

    /// <summary>
    /// Hugging Face <c>Split</c> pre-tokenizer expressions (behavior <c>Isolated</c>), applied in turn; when set
    /// they replace the expressions <see cref="Pre"/> names. Null for a GGUF vocabulary.
    /// </summary>
    public IReadOnlyList<string>? PreTokenizerPatterns { get; init; }

    /// <summary>Hugging Face BPE <c>ignore_merges</c>: a word that is itself a token is not merged. Null: the pre-tokenizer's default.</summary>
    public bool? IgnoreMerges { get; init; }

    /// <summary>Hugging Face normalizer steps applied to text between added tokens before pre-tokenizing; null for none.</summary>
    public TextNormalizer? Normalizer { get; init; }

    /// <summary>Hugging Face <c>ByteLevel.add_prefix_space</c>: a space is put before text that does not start with one.</summary>
    public bool? PrefixSpace { get; init; }

    /// <summary>Hugging Face <c>Metaspace</c> pre-tokenizer of a character-level (<c>bpe</c>) vocabulary; null for none.</summary>
    public MetaspaceSettings? Metaspace { get; init; }

    /// <summary>Hugging Face BPE <c>byte_fallback</c>: a character that is no token is spelled with <c>&lt;0xNN&gt;</c> byte tokens.</summary>
    public bool? ByteFallback { get; init; }

    /// <summary>Hugging Face BPE <c>fuse_unk</c>: consecutive unknown characters give one unknown token.</summary>
    public bool? FuseUnknown { get; init; }

    /// <summary>The character that decoding a character-level (<c>bpe</c>) vocabulary turns back into a space (usually <c>▁</c>); null for none.</summary>
    public char? SpaceMarker { get; init; }

    /// <summary>Attributes added to tokens' types (Hugging Face added tokens' <c>lstrip</c>/<c>rstrip</c>/<c>single_word</c>/<c>normalized</c>); null for none.</summary>
    public IReadOnlyDictionary<int, TokenAttributes>? ExtraAttributes { get; init; }

    /// <summary>Whether decoding cleans spaces before punctuation (Hugging Face <c>clean_up_tokenization_spaces</c>); null: the model's default.</summary>
    public bool? CleanSpaces { get; init; }

    /// <summary>
    /// Whether normal tokens whose text looks like an end-of-turn or fill-in-the-middle marker become control tokens, as
    /// llama.cpp does for GGUF files; Hugging Face never does (only added tokens are special). Null: true.
    /// </summary>
    public bool? ControlByText { get; init; }

    /// <summary>More ids that end generation (Hugging Face <c>generation_config.json</c>'s <c>eos_token_id</c> list); null for none.</summary>
    public IReadOnlyList<int>? EndOfGenerationIds { get; init; }
}
