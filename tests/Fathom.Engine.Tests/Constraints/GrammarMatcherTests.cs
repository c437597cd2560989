using System.Text;
using System.Text.Json;
using Fathom.Engine.Constraints;

namespace Fathom.Engine.Tests.Constraints;

/// <summary>Masks refuse the tokens that would break the grammar, and agree with checking every token one by one.</summary>
public sealed class GrammarMatcherTests
{
    private static Grammar Schema(string json)
    {
        using var document = JsonDocument.Parse(json);
        return Grammar.FromJsonSchema(document.RootElement);
    }

    private static (GrammarMatcher Matcher, ConstraintVocabulary Vocabulary, Fathom.Engine.Tokenization.Tokenizer Tokenizer) Start(Grammar grammar)
    {
        var (tokenizer, vocabulary) = ConstraintVocabularies.Get(ConstraintVocabularies.Llama3);
        return (new GrammarMatcher(grammar, vocabulary), vocabulary, tokenizer);
    }

    private static int Token(Fathom.Engine.Tokenization.Tokenizer tokenizer, string text) =>
        tokenizer.FindToken(Fathom.Engine.Tokenization.ByteLevelEncoding.Encode(Encoding.UTF8.GetBytes(text))) ?? throw new InvalidOperationException($"no single token for '{text}'");

    private static bool Allowed(GrammarMatcher matcher, int token)
    {
        var mask = new ulong[(matcher.VocabularySize + 63) / 64];
        matcher.FillNextTokenMask(mask);
        return (mask[token >> 6] & (1UL << (token & 63))) != 0;
    }

    private static void Feed(GrammarMatcher matcher, string text) => Assert.True(matcher.AcceptBytes(Encoding.UTF8.GetBytes(text)), $"'{text}' refused");

    [Fact]
    public void A_closing_brace_is_masked_while_a_required_property_is_missing()
    {
        var (matcher, _, tokenizer) = Start(Schema("""{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"],"additionalProperties":false}"""));
        Feed(matcher, "{");
        int close = Token(tokenizer, "}");
        Assert.False(Allowed(matcher, close));
        Assert.False(matcher.Accept(close));
        Assert.True(matcher.Accept(Token(tokenizer, "\"")), "state unchanged after a refusal: the key can still start");
        Feed(matcher, "a\":1");
        Assert.True(Allowed(matcher, close));
    }

    [Fact]
    public void Integer_ranges_are_exact()
    {
        var grammar = Schema("""{"type":"integer","minimum":1,"maximum":12}""");
        var (matcher, _, tokenizer) = Start(grammar);
        Assert.False(Allowed(matcher, Token(tokenizer, "0")));
        Assert.False(Allowed(matcher, Token(tokenizer, "13")));
        Assert.False(Allowed(matcher, Token(tokenizer, "-")));
        Assert.True(Allowed(matcher, Token(tokenizer, "12")));
        Assert.True(matcher.Accept(Token(tokenizer, "1")));
        Assert.True(matcher.CanEnd);
        Assert.True(Allowed(matcher, Token(tokenizer, "2")));
        Assert.False(Allowed(matcher, Token(tokenizer, "3")));
        Assert.True(matcher.Accept(Token(tokenizer, "0")));
        Assert.True(matcher.IsComplete, "10 can take no more digits");
    }

    [Fact]
    public void End_tokens_are_allowed_only_where_the_grammar_may_end()
    {
        var (matcher, vocabulary, tokenizer) = Start(Schema("""{"type":"boolean"}"""));
        int end = vocabulary.EndTokens[0];
        Assert.False(Allowed(matcher, end));
        Assert.False(matcher.Accept(end));
        Assert.True(matcher.Accept(Token(tokenizer, "true")));
        Assert.True(matcher.CanEnd);
        Assert.True(Allowed(matcher, end));
        Assert.False(Allowed(matcher, Token(tokenizer, "true")));
        Assert.True(matcher.Accept(end));
        Assert.True(matcher.IsComplete);
        Assert.False(matcher.Accept(Token(tokenizer, " ")));
    }

    [Fact]
    public void Control_tokens_are_never_allowed()
    {
        var (matcher, _, tokenizer) = Start(Grammar.AnyJson());
        int header = tokenizer.FindToken("<|start_header_id|>") ?? throw new InvalidOperationException("no header token");
        Assert.False(Allowed(matcher, header));
        Assert.False(matcher.Accept(header));
    }

    [Fact]
    public void A_pattern_masks_characters_it_does_not_allow()
    {
        var (matcher, _, tokenizer) = Start(Schema("""{"type":"string","pattern":"^[0-9]{3}$"}"""));
        Feed(matcher, "\"");
        Assert.False(Allowed(matcher, Token(tokenizer, "a")));
        Assert.False(Allowed(matcher, Token(tokenizer, "\"")));
        Assert.True(Allowed(matcher, Token(tokenizer, "123")));
        Assert.True(matcher.Accept(Token(tokenizer, "12")));
        Assert.False(Allowed(matcher, Token(tokenizer, "34")));
        Assert.False(Allowed(matcher, Token(tokenizer, "\"")));
        Assert.True(matcher.Accept(Token(tokenizer, "3")));
        Assert.True(Allowed(matcher, Token(tokenizer, "\"")));
    }

    [Fact]
    public void String_escapes_are_handled()
    {
        var (matcher, _, _) = Start(Schema("""{"type":"string"}"""));
        Feed(matcher, "\"a\\\"b\\u00e9\\n");
        Assert.False(matcher.AcceptBytes("\\x"u8), "\\x is not a JSON escape");
        Assert.False(matcher.AcceptBytes("\\ud800"u8), "a lone surrogate escape is refused");
        Assert.False(matcher.AcceptBytes("\n"u8), "raw control characters are refused");
        Assert.False(matcher.AcceptBytes([0xC0, 0x80]), "overlong UTF-8 is refused");
        Feed(matcher, "\"");
        Assert.True(matcher.CanEnd);
    }

    [Fact]
    public void Whitespace_is_bounded()
    {
        var (matcher, _, _) = Start(Grammar.AnyJsonObject());
        Feed(matcher, "{");
        Assert.True(matcher.Clone().AcceptBytes(" }"u8), "one space");
        Assert.False(matcher.Clone().AcceptBytes("  "u8), "two spaces without a line break");
        Assert.True(matcher.Clone().AcceptBytes("\r\n\n\t}"u8), "a blank line, then indentation");
        Assert.False(matcher.Clone().AcceptBytes("\n\n\n"u8), "three line breaks");
        Assert.False(matcher.Clone().AcceptBytes("\n \n"u8), "a line break after indentation");
        Feed(matcher, "\r\n\r\n" + new string(' ', Grammar.MaxWhitespace - 4));
        Assert.False(matcher.AcceptBytes(" "u8));
        Feed(matcher, "}");
        Assert.True(matcher.CanEnd);
    }

    [Fact]
    public void Optional_properties_keep_schema_order_without_stray_commas()
    {
        var grammar = Schema("""{"type":"object","properties":{"a":{"type":"null"},"b":{"type":"null"},"c":{"type":"null"}},"additionalProperties":false}""");
        var (matcher, _, _) = Start(grammar);
        Feed(matcher, "{");
        var clone = matcher.Clone();
        Assert.False(clone.AcceptBytes(","u8));
        Feed(matcher, "\"b\":null");
        Assert.False(matcher.Clone().AcceptBytes(",\"a\""u8), "a comes before b");
        Assert.False(matcher.Clone().AcceptBytes(",}"u8));
        Feed(matcher, ",\"c\":null}");
        Assert.True(matcher.CanEnd);
        Assert.True(clone.AcceptBytes("}"u8), "the empty object is allowed when nothing is required");
    }

    [Fact]
    public void Combinators_compose()
    {
        var grammar = Grammar.Sequence(
            Grammar.Literal("<call>"),
            Grammar.Repeat(Grammar.Choice(Grammar.Literal("x"), Grammar.Literal("yy")), 1, 3, Grammar.Literal(",")),
            Grammar.Whitespace,
            Grammar.Literal("</call>"));
        var (matcher, _, _) = Start(grammar);
        Assert.False(matcher.Clone().AcceptBytes("<call></call>"u8));
        Assert.False(matcher.Clone().AcceptBytes("<call>x,yy,x,x"u8));
        Assert.True(matcher.AcceptBytes("<call>x,yy\n  </call>"u8));
        Assert.True(matcher.IsComplete);
    }

    [Theory]
    [InlineData("recursive-tree", "{\"value\":1,\"children\":[{\"value\":")]
    [InlineData("object-required-optional", "{\"name\":\"Ann")]
    [InlineData("format-date-time", "\"2024-02-2")]
    [InlineData("number-range", "")]
    [InlineData("anyOf", "")]
    [InlineData("any-value", "[{\"k\": [tr")]
    [InlineData("string-plain", "\"Hello")]
    [InlineData("string-length", "\"")]
    [InlineData("string-length", "\"abcdef")]
    [InlineData("string-exact-length", "\"abcd")]
    [InlineData("format-email", "\"ada")]
    [InlineData("format-email", "\"ada.lo")]
    [InlineData("format-email", "\"ada@example.o")]
    [InlineData("object-escaped-names", "{\"quote\\\"d\":\"x\",\"名前\":\"a")]
    public void The_mask_agrees_with_checking_every_token(string schemaName, string prefix)
    {
        var (matcher, vocabulary, _) = Start(Schema(TestSchemas.All[schemaName]));
        Feed(matcher, prefix);
        var mask = new ulong[vocabulary.Words];
        matcher.FillNextTokenMask(mask);
        int allowedCount = 0;
        for (int id = 0; id < vocabulary.Size; id++)
        {
            bool inMask = (mask[id >> 6] & (1UL << (id & 63))) != 0;
            Assert.True(inMask == matcher.IsAllowed(id), $"token {id} mask={inMask}");
            allowedCount += inMask ? 1 : 0;
        }

        Assert.InRange(allowedCount, 1, vocabulary.Size - 1);
    }

    // Each position of a counted string (any character or escape) is its own automaton state, and the mask there reuses
    // the run length its automaton table holds and walks only the residual tokens: check every position.
    [Fact]
    public void The_mask_agrees_with_checking_every_token_along_a_counted_string()
    {
        var (matcher, vocabulary, _) = Start(Schema("""{"type":"string","minLength":3,"maxLength":40}"""));
        Feed(matcher, "\"");
        var mask = new ulong[vocabulary.Words];
        string[] characters = ["A", "b", " ", "\\n", "~", "-", "1", "\\\"", .. Enumerable.Repeat("y", 31)];
        foreach (string character in characters)
        {
            matcher.FillNextTokenMask(mask);
            for (int id = 0; id < vocabulary.Size; id++)
            {
                bool inMask = (mask[id >> 6] & (1UL << (id & 63))) != 0;
                Assert.True(inMask == matcher.IsAllowed(id), $"token {id} mask={inMask} before \"{character}\"");
            }

            Feed(matcher, character);
        }

        matcher.FillNextTokenMask(mask);
        Assert.True(matcher.AcceptBytes("\""u8));
        Assert.True(matcher.CanEnd);
    }

    // JSON Schema counts a string's length in characters as RFC 8259 does: code points. One multi-byte character, a
    // character outside the BMP (two UTF-16 units) and an escape each count as one.
    [Theory]
    [InlineData("\"é日\"", true)]
    [InlineData("\"😀a\"", true)]
    [InlineData("\"\\u00e9\\n\"", true)]
    [InlineData("\"ab\"", true)]
    [InlineData("\"é日x\"", false)]
    [InlineData("\"日\"", false)]
    public void A_counted_string_counts_code_points(string json, bool valid)
    {
        var matcher = new GrammarMatcher(Schema("""{"type":"string","minLength":2,"maxLength":2}"""), ConstraintVocabularies.Get(ConstraintVocabularies.Llama3).Vocabulary);
        Assert.Equal(valid, matcher.AcceptBytes(Encoding.UTF8.GetBytes(json)) && matcher.CanEnd);
    }

    // Near the bound the mask must be exactly the tokens whose characters fit, judged here by decoding each token's bytes
    // as JSON string content (not by the automaton): 3, 1 and 0 characters left after ASCII, multi-byte and escaped ones.
    [Theory]
    [InlineData("a\\né日", 3)]
    [InlineData("ab日\\\"xé", 1)]
    [InlineData("日本語\\u00e9abc", 0)]
    public void A_counted_string_mask_near_its_bound_is_exactly_the_tokens_that_fit(string written, int left)
    {
        const int MaxLength = 7;
        var (matcher, vocabulary, tokenizer) = Start(Schema($$"""{"type":"string","maxLength":{{MaxLength}}}"""));
        Feed(matcher, "\"" + written);
        var mask = new ulong[vocabulary.Words];
        matcher.FillNextTokenMask(mask);
        int allowed = 0;
        for (int id = 0; id < vocabulary.Size; id++)
        {
            if (vocabulary.IsEnd[id] || !vocabulary.IsWalkable(id))
            {
                continue;
            }

            bool inMask = (mask[id >> 6] & (1UL << (id & 63))) != 0;
            bool fits = StringContentFits(vocabulary.BytesOf(id), left);
            Assert.True(inMask == fits, $"token {id} ({tokenizer.GetText(id)}): mask={inMask}, fits={fits}, {left} left");
            allowed += inMask ? 1 : 0;
        }

        Assert.True(allowed > (left == 0 ? 0 : 1000), $"{allowed} tokens allowed with {left} left");
        Assert.Equal(left >= 2, Allowed(matcher, Token(tokenizer, "日本")));
    }

    // Whether the bytes can continue a top-level JSON string with `left` characters still allowed: each whole or partial
    // character (UTF-8 sequence or escape) takes one; a closing quote must end the bytes; control bytes and malformed
    // UTF-8 never fit; a \u escape never names a surrogate.
    private static bool StringContentFits(ReadOnlySpan<byte> bytes, int left)
    {
        int used = 0;
        for (int i = 0; i < bytes.Length;)
        {
            byte b = bytes[i];
            if (b == '"')
            {
                return i == bytes.Length - 1;
            }

            if (++used > left || b < 0x20)
            {
                return false;
            }

            if (b == '\\')
            {
                int end = Math.Min(bytes.Length, i + 2);
                if (end > i + 1 && "\"\\/bfnrtu".IndexOf((char)bytes[i + 1], StringComparison.Ordinal) < 0)
                {
                    return false;
                }

                if (end > i + 1 && bytes[i + 1] == 'u')
                {
                    end = Math.Min(bytes.Length, i + 6);
                    for (int k = i + 2; k < end; k++)
                    {
                        if (!Uri.IsHexDigit((char)bytes[k]) || (k == i + 3 && bytes[i + 2] is (byte)'d' or (byte)'D' && bytes[k] > '7'))
                        {
                            return false;
                        }
                    }
                }

                i = end;
                continue;
            }

            if (b < 0x80)
            {
                i++;
                continue;
            }

            int length = b is >= 0xC2 and <= 0xDF ? 2 : b is >= 0xE0 and <= 0xEF ? 3 : b is >= 0xF0 and <= 0xF4 ? 4 : 0;
            if (length == 0)
            {
                return false;
            }

            for (int k = 1; k < length && i + k < bytes.Length; k++)
            {
                byte c = bytes[i + k];
                (int low, int high) = k > 1 ? (0x80, 0xBF) : b switch
                {
                    0xE0 => (0xA0, 0xBF),
                    0xED => (0x80, 0x9F),
                    0xF0 => (0x90, 0xBF),
                    0xF4 => (0x80, 0x8F),
                    _ => (0x80, 0xBF),
                };
                if (c < low || c > high)
                {
                    return false;
                }
            }

            i += length;
        }

        return true;
    }

    [Fact]
    public void Matchers_on_one_grammar_run_on_many_threads()
    {
        var grammar = Schema(TestSchemas.All["array-of-objects"]);
        var (_, vocabulary) = ConstraintVocabularies.Get(ConstraintVocabularies.Llama3);
        var outputs = new string[8];
        Parallel.For(0, outputs.Length, i => outputs[i] = RandomWalk.Generate(grammar, vocabulary, seed: 100 + i).Text);
        for (int i = 0; i < outputs.Length; i++)
        {
            Assert.Equal(RandomWalk.Generate(grammar, vocabulary, seed: 100 + i).Text, outputs[i]);
            using var document = JsonDocument.Parse(outputs[i]);
            Assert.Equal(JsonValueKind.Array, document.RootElement.ValueKind);
        }
    }
}
