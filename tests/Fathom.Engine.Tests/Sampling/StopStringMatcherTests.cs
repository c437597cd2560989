using Fathom.Engine.Sampling;

namespace Fathom.Engine.Tests.Sampling;

public sealed class StopStringMatcherTests
{
    private static (string Emitted, bool Stopped) Feed(StopStringMatcher matcher, params string[] pieces)
    {
        string emitted = string.Concat(pieces.Select(matcher.Append));
        return (emitted + (matcher.Stopped ? "" : matcher.Flush()), matcher.Stopped);
    }

    [Fact]
    public void A_stop_string_split_across_tokens_is_found_and_cut()
    {
        var matcher = new StopStringMatcher(["STOP"]);
        Assert.Equal("Hel", matcher.Append("Hel"));
        Assert.Equal("lo ", matcher.Append("lo ST")); // "ST" could start "STOP": held back
        Assert.Equal("", matcher.Append("O"));
        Assert.Equal("", matcher.Append("P and more"));
        Assert.True(matcher.Stopped);
        Assert.Equal("STOP", matcher.MatchedStop);
        Assert.Equal("", matcher.Append("ignored"));
    }

    [Fact]
    public void Held_back_text_is_released_when_the_match_fails()
    {
        var matcher = new StopStringMatcher(["</end>"]);
        Assert.Equal("a", matcher.Append("a</e"));
        Assert.Equal("</ex", matcher.Append("x"));
        Assert.Equal("", matcher.Append("</"));
        Assert.Equal("</", matcher.Flush());
        Assert.False(matcher.Stopped);
    }

    [Fact]
    public void The_earliest_of_several_stop_strings_wins() =>
        Assert.Equal(("one ", true), Feed(new StopStringMatcher(["three", "two"]), "one t", "wo three"));

    [Fact]
    public void A_stop_string_inside_one_piece_cuts_there() =>
        Assert.Equal(("abc", true), Feed(new StopStringMatcher(["\n\n"]), "abc\n\ndef"));

    [Fact]
    public void Without_stop_strings_text_passes_through() =>
        Assert.Equal(("hello world", false), Feed(new StopStringMatcher(null), "hello", " world"));

    [Fact]
    public void Overlapping_partial_prefixes_hold_the_longest()
    {
        var matcher = new StopStringMatcher(["aab"]);
        Assert.Equal("", matcher.Append("a"));
        Assert.Equal("", matcher.Append("a"));
        Assert.Equal("a", matcher.Append("a")); // "aaa": only the last "aa" can still start "aab"
        Assert.Equal("", matcher.Append("b"));
        Assert.True(matcher.Stopped);
    }
}
