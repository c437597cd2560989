using System.Text;
using System.Text.Json;
using Fathom.Api.Gateway;

namespace Fathom.Api.Tests.Gateway.Units;

public sealed class ForwardedBodyTests
{
    private static string Rewrite(string json, string? salt, bool includeUsage)
    {
        using var document = JsonDocument.Parse(json);
        return Encoding.UTF8.GetString(ForwardedBody.Rewrite(document.RootElement, salt, includeUsage));
    }

    [Fact]
    public void Other_properties_are_copied_byte_for_byte_escapes_included()
    {
        const string Json = """{"model":"m","messages":[{"role":"user","content":"caf\u00e9 \ud83d\ude00 \"q\""}],"max_tokens":4096.0,"cache_salt":"client"}""";

        string forwarded = Rewrite(Json, "SALT", includeUsage: false);

        Assert.Equal("""{"model":"m","messages":[{"role":"user","content":"caf\u00e9 \ud83d\ude00 \"q\""}],"max_tokens":4096.0,"cache_salt":"SALT"}""", forwarded);
    }

    [Fact]
    public void Include_usage_is_turned_on_keeping_the_other_stream_options()
    {
        string forwarded = Rewrite("""{"stream":true,"stream_options":{"include_usage":false,"continuous_usage_stats":false}}""", null, includeUsage: true);

        using var document = JsonDocument.Parse(forwarded);
        var options = document.RootElement.GetProperty("stream_options");
        Assert.True(options.GetProperty("include_usage").GetBoolean());
        Assert.False(options.GetProperty("continuous_usage_stats").GetBoolean());
        Assert.True(document.RootElement.GetProperty("stream").GetBoolean());
        Assert.Equal(2, document.RootElement.EnumerateObject().Count());
    }
}
