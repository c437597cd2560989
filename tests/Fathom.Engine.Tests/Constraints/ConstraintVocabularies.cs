using Fathom.Engine.Constraints;
using Fathom.Engine.Tests.Tokenization;
using Fathom.Engine.Tokenization;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Constraints;

/// <summary>The real vocabularies constrained decoding is tested over, each built once per run.</summary>
internal static class ConstraintVocabularies
{
    public const string Llama3 = "llama3";
    public const string Stories260K = SharedFixtures.Stories260K;

    private static readonly Dictionary<string, Lazy<(Tokenizer Tokenizer, ConstraintVocabulary Vocabulary)>> Cache = new(StringComparer.Ordinal);
    private static readonly Lock CacheLock = new();

    public static (Tokenizer Tokenizer, ConstraintVocabulary Vocabulary) Get(string name)
    {
        Lazy<(Tokenizer, ConstraintVocabulary)> lazy;
        lock (CacheLock)
        {
            if (!Cache.TryGetValue(name, out lazy!))
            {
                lazy = new(() =>
                {
                    var tokenizer = VocabularyFixtures.Get(name);
                    return (tokenizer, ConstraintVocabulary.FromTokenizer(tokenizer));
                });
                Cache[name] = lazy;
            }
        }

        return lazy.Value;
    }
}
