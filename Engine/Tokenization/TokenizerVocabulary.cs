namespace Fathom.Engine.Tokenization;

/// <summary>
/// Everything a tokenizer is built from, named after GGUF's <c>tokenizer.ggml.*</c> keys. Null flags and ids mean
/// "not in the file": the tokenizer then applies llama.cpp's defaults for the <see cref="Model"/>.
/// </summary>
public sealed record TokenizerVocabulary
{
    /// <summary>GGUF <c>tokenizer.ggml.model</c>: <c>llama</c> (SentencePiece BPE) or <c>gpt2</c> (byte-level BPE).</summary>
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

    /// <summary>The Unicode normalization applied to text before pre-tokenizing (Hugging Face <c>NFC</c>/<c>NFKC</c>); null for none.</summary>
    public System.Text.NormalizationForm? Normalization { get; init; }

    /// <summary>Whether decoding cleans spaces before punctuation (Hugging Face <c>clean_up_tokenization_spaces</c>); null: the model's default.</summary>
    public bool? CleanSpaces { get; init; }

    /// <summary>More ids that end generation (Hugging Face <c>generation_config.json</c>'s <c>eos_token_id</c> list); null for none.</summary>
    public IReadOnlyList<int>? EndOfGenerationIds { get; init; }
}
