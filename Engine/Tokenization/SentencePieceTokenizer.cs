using System.Text;

namespace Fathom.Engine.Tokenization;

/// <summary>
/// The <c>llama</c> tokenizer (Llama 2, TinyLlama, stories): SentencePiece BPE as llama.cpp runs it. Spaces become
/// <c>▁</c>, a space is put in front of text that starts the input or follows a special token, then adjacent
/// pieces are merged best score first (ties: leftmost) while their concatenation is a token; whatever remains
/// that is not a token falls back to <c>&lt;0xNN&gt;</c> byte tokens.
/// </summary>
internal sealed class SentencePieceTokenizer : Tokenizer
{
    private const char SpaceMarker = '\u2581';
    private readonly int[] _byteTokens;

    public SentencePieceTokenizer(TokenizerVocabulary vocabulary)
        : base(vocabulary, new TokenizerDefaults(Bos: 1, Eos: 2, Unknown: 0, AddBos: true, AddEos: false, AddSpacePrefix: true, CleanSpaces: false))
    {
        _byteTokens = ByteTokens.Find(IdsBySpan, literalAscii: true);
    }

    private protected override void EncodeText(ReadOnlySpan<char> text, bool afterSpecial, bool atStart, List<int> output)
    {
        var prefix = AddSpacePrefix && afterSpecial ? 1 : 0;
        var chars = new char[text.Length + prefix];
        if (prefix == 1)
        {
            chars[0] = SpaceMarker;
        }
        text.CopyTo(chars.AsSpan(prefix));
        chars.AsSpan().Replace(' ', SpaceMarker);
        Tokenize(chars, output);
    }

    private protected override byte[] NormalPiece(int id) => Encoding.UTF8.GetBytes(Texts[id].Replace(SpaceMarker, ' '));

    private void Tokenize(char[] text, List<int> output)
    {
        if (text.Length == 0)
        {
            return;
        }

        // Symbols are code points (a surrogate pair stays together); start/length in chars.
        var n = 0;
        var start = new int[text.Length];
        var length = new int[text.Length];
        for (var i = 0; i < text.Length; n++)
        {
            var len = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            start[n] = i;
            length[n] = len;
            i += len;
        }
        var prev = new int[n];
        var next = new int[n];
        for (var i = 0; i < n; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }

        var queue = new PriorityQueue<Bigram, Bigram>(BigramOrder.Instance);
        for (var i = 1; i < n; i++)
        {
            TryAddBigram(i - 1, i);
        }

        while (queue.Count > 0)
        {
            var bigram = queue.Dequeue();
            var left = bigram.Left;
            var right = bigram.Right;
            // Skip a pair one of whose symbols has changed since it was queued.
            if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != bigram.Size)
            {
                continue;
            }
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0)
            {
                prev[next[right]] = left;
            }
            TryAddBigram(prev[left], left);
            TryAddBigram(left, next[left]);
        }

        Span<byte> utf8 = stackalloc byte[8];
        for (var i = 0; i != -1; i = next[i])
        {
            var piece = text.AsSpan(start[i], length[i]);
            if (IdsBySpan.TryGetValue(piece, out var id))
            {
                output.Add(id);
                continue;
            }
            var count = Encoding.UTF8.GetBytes(piece, utf8);
            for (var b = 0; b < count; b++)
            {
                var token = _byteTokens[utf8[b]];
                if (token < 0)
                {
                    throw new TokenizerException($"the vocabulary has no byte token <0x{utf8[b]:X2}> to spell '{piece}'");
                }
                output.Add(token);
            }
        }

        void TryAddBigram(int left, int right)
        {
            if (left < 0 || right < 0)
            {
                return;
            }
            var size = length[left] + length[right];
            if (!IdsBySpan.TryGetValue(text.AsSpan(start[left], size), out var id))
            {
                return;
            }
            var bigram = new Bigram(left, right, Scores[id], size);
            queue.Enqueue(bigram, bigram);
        }
    }

    private readonly record struct Bigram(int Left, int Right, float Score, int Size);

    /// <summary>Highest score first; among equal scores the leftmost pair.</summary>
    private sealed class BigramOrder : IComparer<Bigram>
    {
        public static readonly BigramOrder Instance = new();

        public int Compare(Bigram x, Bigram y)
        {
            var byScore = y.Score.CompareTo(x.Score);
            return byScore != 0 ? byScore : x.Left.CompareTo(y.Left);
        }
    }
}
