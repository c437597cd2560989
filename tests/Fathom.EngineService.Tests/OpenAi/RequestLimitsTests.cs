using System.Net;
using System.Text;
using System.Text.Json;
using Fathom.Testing;

namespace Fathom.EngineService.Tests.OpenAi;

/// <summary>An engine of its own with small <c>Fathom:RequestLimits</c>, so each bound can be met exactly.</summary>
public sealed class RequestLimitsEngineFixture() : EngineServiceFixture(
    "--Fathom:RequestLimits:MaxRequestBodyBytes", "16384",
    "--Fathom:RequestLimits:MaxJsonDepth", "8",
    "--Fathom:RequestLimits:MaxMessages", "4",
    "--Fathom:RequestLimits:MaxMessageBytes", "400",
    "--Fathom:RequestLimits:MaxN", "2",
    "--Fathom:RequestLimits:MaxStopSequences", "2",
    "--Fathom:RequestLimits:MaxStopBytes", "8",
    "--Fathom:RequestLimits:MaxStopTokenIds", "2",
    "--Fathom:RequestLimits:MaxLogitBiasEntries", "3",
    "--Fathom:RequestLimits:MaxTools", "2",
    "--Fathom:RequestLimits:MaxToolsBytes", "600",
    // stories260K has no template (ChatML fallback, which renders no tools, so tools would be refused): one that does.
    "--chat-template", Path.Combine(AppContext.BaseDirectory, "Templates", "tool-names.jinja"));

/// <summary>Each bound of <c>RequestLimits</c> at its limit (answered) and one beyond (a 400 naming the field).</summary>
public sealed class RequestLimitsTests(RequestLimitsEngineFixture fixture) : IClassFixture<RequestLimitsEngineFixture>
{
    private const string Hi = """[{"role":"user","content":"hi"}]""";

    private static string Chat(string extra, string messages = Hi) =>
        $$"""{"messages":{{messages}},"max_tokens":1,"temperature":0{{(extra.Length > 0 ? "," + extra : "")}}}""";

    private static string Messages(int count) =>
        "[" + string.Join(",", Enumerable.Repeat("""{"role":"user","content":"hi"}""", count)) + "]";

    /// <summary>One user message whose strings ("user" and the content) take <paramref name="bytes"/> bytes.</summary>
    private static string MessageOfBytes(int bytes) => $$"""[{"role":"user","content":"{{new string('a', bytes - 4)}}"}]""";

    private static string Tools(int count, int descriptionLength = 1) =>
        "[" + string.Join(",", Enumerable.Range(0, count).Select(i =>
            "{\"type\":\"function\",\"function\":{\"name\":\"f" + i + "\",\"description\":\"" + new string('d', descriptionLength) + "\",\"parameters\":{\"type\":\"object\"}}}")) + "]";

    private static string ToolsOfBytes(int bytes) => Tools(1, 1 + bytes - Tools(1).Length);

    private static string Nested(int arrays) => new string('[', arrays) + new string(']', arrays);

    private static string Bias(int entries, string value = "1") =>
        "{" + string.Join(",", Enumerable.Range(1, entries).Select(t => $"\"{t}\":{value}")) + "}";

    public static TheoryData<string, string, string> Bounds => new()
    {
        { "messages", Chat("", Messages(4)), Chat("", Messages(5)) },
        { "messages", Chat("", MessageOfBytes(400)), Chat("", MessageOfBytes(401)) },
        { "n", Chat("\"n\":2"), Chat("\"n\":3") },
        { "stop", Chat("\"stop\":[\"a\",\"b\"]"), Chat("\"stop\":[\"a\",\"b\",\"c\"]") },
        { "stop", Chat("\"stop\":\"12345678\""), Chat("\"stop\":\"123456789\"") },
        { "stop_token_ids", Chat("\"stop_token_ids\":[1,2]"), Chat("\"stop_token_ids\":[1,2,3]") },
        { "logit_bias", Chat("\"logit_bias\":" + Bias(3)), Chat("\"logit_bias\":" + Bias(4)) },
        { "logit_bias", Chat("\"logit_bias\":" + Bias(1, "100")), Chat("\"logit_bias\":" + Bias(1, "100.5")) },
        { "logit_bias", Chat("\"logit_bias\":" + Bias(1, "-100")), Chat("\"logit_bias\":" + Bias(1, "1e400")) },
        { "tools", Chat("\"tools\":" + Tools(2)), Chat("\"tools\":" + Tools(3)) },
        { "tools", Chat("\"tools\":" + ToolsOfBytes(600)), Chat("\"tools\":" + ToolsOfBytes(601)) },
        { "top_logprobs", Chat("\"logprobs\":true,\"top_logprobs\":20"), Chat("\"logprobs\":true,\"top_logprobs\":21") },
        { "max_completion_tokens", Chat("\"max_completion_tokens\":2.0"), Chat("\"max_completion_tokens\":2.5") },
        { "max_completion_tokens", Chat("\"max_completion_tokens\":2"), Chat("\"max_completion_tokens\":\"2\"") },
        { "temperature", Chat("\"top_p\":1"), Chat("\"top_p\":\"1\"") },
        { "seed", Chat("\"seed\":7.0"), Chat("\"seed\":7.5") },
        { "messages", Chat("", """[{"role":"user","content":"\ud83d\ude00"}]"""), Chat("", """[{"role":"user","content":"\ud83d"}]""") },
    };

    [Theory]
    [MemberData(nameof(Bounds))]
    public async Task A_bound_is_accepted_at_its_limit_and_a_400_naming_the_field_beyond_it(string field, string atLimit, string beyond)
    {
        fixture.Require();
        var (okStatus, okBody) = await PostAsync(atLimit);
        Assert.True(okStatus == HttpStatusCode.OK, $"at the limit: {(int)okStatus} {okBody}");

        var (status, body) = await PostAsync(beyond);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(field == "temperature" ? "top_p" : field, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task Json_nesting_is_accepted_to_the_configured_depth_and_a_400_beyond_it()
    {
        fixture.Require();
        // The body object is one level; 7 arrays in an ignored field make 8.
        var (okStatus, okBody) = await PostAsync(Chat("\"metadata_nest\":" + Nested(7)));
        Assert.True(okStatus == HttpStatusCode.OK, $"at the limit: {(int)okStatus} {okBody}");

        var (status, body) = await PostAsync(Chat("\"metadata_nest\":" + Nested(8)));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("depth", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_body_at_the_size_limit_is_answered_and_one_byte_more_is_a_413()
    {
        fixture.Require();
        string Padded(int size)
        {
            string empty = Chat("\"user\":\"\"");
            return Chat($"\"user\":\"{new string('u', size - empty.Length)}\"");
        }

        var (okStatus, okBody) = await PostAsync(Padded(16384));
        Assert.True(okStatus == HttpStatusCode.OK, $"at the limit: {(int)okStatus} {okBody}");

        var (status, body) = await PostAsync(Padded(16385));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("request_too_large", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await fixture.Http.PostAsync("/v1/chat/completions", content, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
