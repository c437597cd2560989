using System.Globalization;

namespace Fathom.Engine.Tokenization;

/// <summary>
/// The Llama 3 vocabulary from Meta's tiktoken-format <c>tokenizer.model</c> (lines <c>base64 rank</c>) plus the
/// 256 special tokens 128000–128255, which Meta defines in code rather than in the file. The result is what
/// llama.cpp's converter writes to GGUF: a <c>gpt2</c> vocabulary with the <c>llama-bpe</c> pre-tokenizer.
/// </summary>
public static class Llama3Vocabulary
{
    /// <summary>Number of byte-pair tokens in the file.</summary>
    public const int BaseTokenCount = 128000;

    /// <summary>Number of special tokens after them.</summary>
    public const int SpecialTokenCount = 256;

    /// <summary>The special tokens' texts, id 128000 first (Llama 3.1 / 3.3 names).</summary>
    public static IReadOnlyList<string> SpecialTokens { get; } = BuildSpecialTokens();

    /// <summary>Reads <paramref name="path"/> and returns the vocabulary.</summary>
    /// <exception cref="TokenizerException">A line is malformed, or ranks are missing or repeated.</exception>
    public static TokenizerVocabulary Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var reader = new StreamReader(path);
        return Load(reader, path);
    }

    /// <summary>Reads a tiktoken rank list from <paramref name="reader"/>; <paramref name="source"/> names it in errors.</summary>
    public static TokenizerVocabulary Load(TextReader reader, string source)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var tokens = new string?[BaseTokenCount];
        var lineNumber = 0;
        Span<byte> bytes = stackalloc byte[1024];
        Span<char> chars = stackalloc char[1024];
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0
                || !int.TryParse(line.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var rank)
                || !Convert.TryFromBase64Chars(line.AsSpan(0, space), bytes, out var count))
            {
                throw new TokenizerException($"{source}:{lineNumber}: expected 'base64 rank'");
            }
            if (rank >= BaseTokenCount || tokens[rank] is not null)
            {
                throw new TokenizerException($"{source}:{lineNumber}: rank {rank} is out of range or repeated");
            }
            ByteLevelEncoding.Encode(bytes[..count], chars);
            tokens[rank] = new string(chars[..count]);
        }

        var all = new string[BaseTokenCount + SpecialTokenCount];
        for (var i = 0; i < BaseTokenCount; i++)
        {
            all[i] = tokens[i] ?? throw new TokenizerException($"{source}: rank {i} is missing");
        }
        var types = new int[all.Length];
        Array.Fill(types, (int)TokenType.Normal, 0, BaseTokenCount);
        for (var i = 0; i < SpecialTokenCount; i++)
        {
            all[BaseTokenCount + i] = SpecialTokens[i];
            types[BaseTokenCount + i] = (int)TokenType.Control;
        }

        return new TokenizerVocabulary
        {
            Model = "gpt2",
            Pre = "llama-bpe",
            Tokens = all,
            TokenTypes = types,
            Merges = null,
            BosId = 128000,
            EosId = 128001,
            EotId = 128009,
            EomId = 128008,
            AddBos = true,
            AddEos = false,
        };
    }

    /// <summary>
    /// A merge list equivalent to merging by rank, as Hugging Face's tiktoken converter derives it (and as Meta's
    /// published tokenizer.json carries it): for each multi-byte token in rank order, every split into two tokens,
    /// ordered by the ranks of the left then the right part. With these merges the vocabulary can be written to
    /// GGUF for llama.cpp, which requires <c>tokenizer.ggml.merges</c>.
    /// </summary>
    public static string[] DeriveMerges(TokenizerVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        var tokens = vocabulary.Tokens;
        var count = Math.Min(tokens.Count, BaseTokenCount);
        var ranks = new Dictionary<string, int>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            ranks.TryAdd(tokens[i], i);
        }
        var lookup = ranks.GetAlternateLookup<ReadOnlySpan<char>>();

        var merges = new List<string>(count * 3);
        var splits = new List<(int Left, int Right, int Index)>(16);
        for (var rank = 0; rank < count; rank++)
        {
            var token = tokens[rank];
            splits.Clear();
            for (var i = 1; i < token.Length; i++)
            {
                if (lookup.TryGetValue(token.AsSpan(0, i), out var left) && lookup.TryGetValue(token.AsSpan(i), out var right))
                {
                    splits.Add((left, right, i));
                }
            }
            splits.Sort((a, b) => a.Left != b.Left ? a.Left.CompareTo(b.Left) : a.Right.CompareTo(b.Right));
            foreach (var (_, _, index) in splits)
            {
                merges.Add(string.Concat(token.AsSpan(0, index), " ", token.AsSpan(index)));
            }
        }
        return [.. merges];
    }

    private static string[] BuildSpecialTokens()
    {
        var names = new string[SpecialTokenCount];
        for (var i = 0; i < SpecialTokenCount; i++)
        {
            names[i] = "";
        }
        string[] named =
        [
            "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
            "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>",
            "<|eom_id|>", "<|eot_id|>", "<|python_tag|>",
        ];
        named.CopyTo(names, 0);
        // The rest are reserved: 128011 is <|reserved_special_token_3|> … 128255 is <|reserved_special_token_247|>.
        for (var i = named.Length; i < SpecialTokenCount; i++)
        {
            names[i] = $"<|reserved_special_token_{i - named.Length + 3}|>";
        }
        return names;
    }
}
