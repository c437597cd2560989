using Fathom.Engine.Tokenization;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Tokenization;

/// <summary>Tokenizers built from the shared vocabularies, each built once per test run.</summary>
internal static class VocabularyFixtures
{
    private static readonly Dictionary<string, Lazy<Tokenizer>> Cache = new(StringComparer.Ordinal);
    private static readonly Lock CacheLock = new();

    /// <summary>Names the shared files a test can use: vocab/ggml-vocab-X.gguf, models/*.gguf, or llama3 for tokenizer.model.</summary>
    public static Tokenizer Get(string name)
    {
        var path = name == "llama3" ? "llama3/tokenizer.model" : name;
        var fullPath = SharedFixtures.Default.GetPath(path);
        Lazy<Tokenizer> lazy;
        lock (CacheLock)
        {
            if (!Cache.TryGetValue(name, out lazy!))
            {
                lazy = new Lazy<Tokenizer>(() => name == "llama3"
                    ? Tokenizer.Create(Llama3Vocabulary.Load(fullPath))
                    : GgufTokenizerVocabulary.CreateTokenizer(fullPath));
                Cache[name] = lazy;
            }
        }
        return lazy.Value;
    }

    /// <summary>
    /// shared/hf-tokenizers/NAME after checking its tokenizer.json and tokenizer_config.json against SHA256SUMS (the
    /// directory itself cannot be checked).
    /// </summary>
    public static string HuggingFaceDirectory(string name)
    {
        SharedFixtures.Default.GetPath($"hf-tokenizers/{name}/tokenizer_config.json");
        return Path.GetDirectoryName(SharedFixtures.Default.GetPath($"hf-tokenizers/{name}/tokenizer.json"))!;
    }

    /// <summary>llama.cpp's test-tokenizer-0 vectors: inputs separated by a __ggml_vocab_test__ line, one id line per input.</summary>
    public static IReadOnlyList<(string Text, int[] Ids)> ReadVectors(string inpRelative)
    {
        var inp = File.ReadAllText(SharedFixtures.Default.GetPath(inpRelative));
        var outLines = File.ReadAllLines(SharedFixtures.Default.GetPath(inpRelative[..^4] + ".out"));
        var texts = inp.Split("\n__ggml_vocab_test__\n");
        // The file ends with a separator, so the last piece is empty.
        Assert.Equal("", texts[^1]);
        Assert.Equal(texts.Length - 1, outLines.Length);
        var result = new List<(string, int[])>();
        for (var i = 0; i < outLines.Length; i++)
        {
            var ids = outLines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            result.Add((texts[i], ids));
        }
        return result;
    }
}
