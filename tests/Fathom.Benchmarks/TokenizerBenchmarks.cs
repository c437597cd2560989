using System.Diagnostics;
using System.Text;
using BenchmarkDotNet.Attributes;
using Fathom.Gguf;
using Fathom.Engine.Tokenization;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Fathom.Benchmarks;

/// <summary>
/// Llama-3 tokenizer (128,256 tokens from Meta's <c>tokenizer.model</c>): construction time, and encoding throughput
/// on ~1 MiB of English text beside llama.cpp's tokenizer on the same vocabulary (a GGUF we write, vocab-only load).
/// Run: <c>dotnet run -c Release --project tests/Fathom.Benchmarks -- --filter *Tokenizer* --job short</c>.
/// MB/s = <see cref="TextBytes"/> / mean time.
/// </summary>
[MemoryDiagnoser]
public class TokenizerBenchmarks
{
    private string _text = "";
    private string[] _novel = [];
    private int _next;
    private TokenizerVocabulary _vocabulary = null!;
    private Tokenizer _tokenizer = null!;
    private LLamaWeights _llama = null!;
    private string _directory = "";

    /// <summary>UTF-8 bytes of the benchmark text (printed at setup).</summary>
    public int TextBytes { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var shared = SharedDirectory();
        var license = File.ReadAllText(Path.Combine(shared, "llama3", "LICENSE-LLAMA3"));
        var builder = new StringBuilder();
        while (builder.Length < 1 << 20)
        {
            builder.Append(license).Append('\n');
        }

        _text = builder.ToString();
        _novel = [.. Enumerable.Range(0, 16).Select(i => WithNovelWords(_text, seed: 20261128 + i))];
        TextBytes = Encoding.UTF8.GetByteCount(_text);
        _vocabulary = Llama3Vocabulary.Load(Path.Combine(shared, "llama3", "tokenizer.model"));
        _vocabulary = _vocabulary with { Merges = Llama3Vocabulary.DeriveMerges(_vocabulary) };
        _tokenizer = Tokenizer.Create(_vocabulary);

        _directory = Directory.CreateTempSubdirectory("fathom-bench-llama3-").FullName;
        var path = Path.Combine(_directory, "llama3-vocab.gguf");
        using (var template = GgufFile.Open(Path.Combine(shared, "vocab", "ggml-vocab-llama-spm.gguf")))
        {
            var writer = new GgufWriter();
            foreach (var (key, value) in template.Metadata)
            {
                if (key == "llama.vocab_size")
                {
                    writer.AddMetadata(key, (uint)_vocabulary.Tokens.Count);
                }
                else if (!key.StartsWith("tokenizer.", StringComparison.Ordinal))
                {
                    writer.AddMetadata(key, value);
                }
            }

            GgufTokenizerVocabulary.Write(writer, _vocabulary);
            writer.WriteTo(path);
        }

        NativeLibraryConfig.All.WithLogCallback((_, _) => { });
        _llama = LLamaWeights.LoadFromFile(new ModelParams(path) { VocabOnly = true, GpuLayerCount = 0 });
        var ours = _tokenizer.Encode(_text);
        var theirs = _llama.Tokenize(_text, false, false, Encoding.UTF8);
        Console.WriteLine($"// text: {TextBytes:N0} bytes; Fathom {ours.Length:N0} tokens, llama.cpp {theirs.Length:N0} tokens, identical: {ours.SequenceEqual(theirs.Select(t => (int)t))}");
        var novelOurs = Tokenizer.Create(_vocabulary).Encode(_novel[0]);
        var novelTheirs = _llama.Tokenize(_novel[0], false, false, Encoding.UTF8);
        Console.WriteLine($"// novel text: {Encoding.UTF8.GetByteCount(_novel[0]):N0} bytes; identical: {novelOurs.SequenceEqual(novelTheirs.Select(t => (int)t))}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _llama.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Description = "Fathom: build the 128k Llama-3 tokenizer from its vocabulary")]
    public Tokenizer FathomBuild() => Tokenizer.Create(_vocabulary);

    [Benchmark(Description = "Fathom: encode 1 MiB English")]
    public int FathomEncode() => _tokenizer.Encode(_text).Length;

    [Benchmark(Baseline = true, Description = "llama.cpp: encode 1 MiB English")]
    public int LlamaCppEncode() => _llama.Tokenize(_text, false, false, Encoding.UTF8).Length;

    // The licence repeats, which flatters a per-word cache; here a third of the words are random letter strings,
    // different in each of 16 texts used in turn, so those words are new to the cache and go through the merges.
    [Benchmark(Description = "Fathom: encode 1 MiB English, 1/3 novel words")]
    public int FathomEncodeNovel() => _tokenizer.Encode(_novel[_next++ % _novel.Length]).Length;

    [Benchmark(Description = "llama.cpp: encode 1 MiB English, 1/3 novel words")]
    public int LlamaCppEncodeNovel() => _llama.Tokenize(_novel[_next++ % _novel.Length], false, false, Encoding.UTF8).Length;

    private static string WithNovelWords(string text, int seed)
    {
        var random = new Random(seed);
        var words = text.Split(' ');
        for (var i = 0; i < words.Length; i++)
        {
            if (random.Next(3) == 0)
            {
                var letters = new char[random.Next(3, 11)];
                for (var j = 0; j < letters.Length; j++)
                {
                    letters[j] = (char)('a' + random.Next(26));
                }

                words[i] = new string(letters);
            }
        }

        return string.Join(' ', words);
    }

    private static string SharedDirectory()
    {
        if (Environment.GetEnvironmentVariable("FATHOM_SHARED") is { Length: > 0 } configured)
        {
            return configured;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "..", "shared");
            if (File.Exists(Path.Combine(candidate, "SHA256SUMS")) && Path.Exists(Path.Combine(dir.FullName, ".git")))
            {
                return Path.GetFullPath(candidate);
            }
        }

        throw new UnreachableException("../shared not found; set FATHOM_SHARED");
    }
}
