using System.Text;
using System.Text.Json;
using Fathom.Testing.Hostile;

namespace Fathom.Testing.Tests.Hostile;

public sealed class HostileBodiesTests
{
    private static readonly IReadOnlyList<HostileBody> Bodies = HostileBodies.Generate("m");

    [Fact]
    public void A_seed_gives_the_same_bodies_and_another_seed_other_mutations()
    {
        var again = HostileBodies.Generate("m");
        var other = HostileBodies.Generate("m", seed: 19);

        Assert.Equal(Bodies.Select(b => Convert.ToHexString(b.Content)), again.Select(b => Convert.ToHexString(b.Content)));
        Assert.NotEqual(Bodies.Select(b => b.Name), other.Select(b => b.Name));
    }

    [Fact]
    public void There_are_hundreds_for_each_endpoint_with_unique_names()
    {
        foreach (string path in (string[])[HostileBody.ChatPath, HostileBody.CompletionsPath])
        {
            var names = Bodies.Where(b => b.Path == path).Select(b => b.Name).ToList();
            Assert.True(names.Count >= 300, $"{path}: {names.Count}");
            Assert.Equal(names.Count, names.Distinct().Count());
        }
    }

    [Fact]
    public void Bodies_expected_to_succeed_are_well_formed_JSON_objects()
    {
        foreach (var body in Bodies.Where(b => b.Expect == HostileExpectation.Accepted))
        {
            using var json = JsonDocument.Parse(body.Content);
            Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
        }
    }

    [Fact]
    public void The_hostile_classes_the_issue_names_are_present()
    {
        bool Has(Func<HostileBody, bool> f) => Bodies.Any(f);
        Assert.True(Has(b => b.Content.Length >= 5 * 1024 * 1024), "a 5 MB body");
        Assert.True(Has(b => b.Name.Contains("10k deep", StringComparison.Ordinal)), "deep nesting");
        Assert.True(Has(b => b.Name.Contains("100k", StringComparison.Ordinal)), "100k-element arrays");
        Assert.True(Has(b => !IsUtf8(b.Content)), "invalid UTF-8");
        Assert.True(Has(b => b.Name.StartsWith("repetition_penalty=1e-45 with top_k", StringComparison.Ordinal)), "the reported crash");
        foreach (string field in (string[])["temperature", "top_p", "top_k", "min_p", "presence_penalty", "frequency_penalty", "repetition_penalty", "logit_bias", "n", "max_tokens", "top_logprobs", "seed", "stop"])
        {
            Assert.True(Has(b => b.Expect == HostileExpectation.Accepted && b.Name.StartsWith(field + "=", StringComparison.Ordinal)), $"{field} in range");
            Assert.True(Has(b => b.Expect == HostileExpectation.Rejected && b.Param == field), $"{field} out of range");
        }
    }

    [Theory]
    [InlineData(OutcomeKind.ServerError, 500, false, null, false, "5xx for an input error")]
    [InlineData(OutcomeKind.Connection, 0, false, null, false, "connection failed")]
    [InlineData(OutcomeKind.ClientError, 400, false, null, false, "4xx without OpenAI error JSON")]
    [InlineData(OutcomeKind.ClientError, 400, true, "top_k", false, "400 names param 'top_k', expected 'temperature'")]
    [InlineData(OutcomeKind.ClientError, 400, true, "temperature", false, null)]
    [InlineData(OutcomeKind.ClientError, 413, true, null, false, null)]
    [InlineData(OutcomeKind.Success, 200, false, null, false, "accepted, expected a 4xx")]
    public void The_verdict_on_a_rejected_body(OutcomeKind kind, int status, bool json, string? param, bool sseError, string? expected)
    {
        var body = new HostileBody("temperature=-1", HostileBody.ChatPath, [], HostileExpectation.Rejected, "temperature");
        Assert.Equal(expected, HostileReport.Verdict(body, new HostileOutcome(kind, status, json, param, sseError, "", TimeSpan.Zero)));
    }

    [Fact]
    public void An_error_event_in_a_200_stream_is_a_violation_even_for_a_valid_body()
    {
        var body = new HostileBody("ok", HostileBody.ChatPath, [], HostileExpectation.Accepted);
        Assert.True(HostileClient.HasErrorEvent("data: {\"choices\":[]}\n\ndata: {\"error\":{\"message\":\"x\"}}\n\n"));
        Assert.NotNull(HostileReport.Verdict(body, new HostileOutcome(OutcomeKind.Success, 200, false, null, true, "", TimeSpan.Zero)));
        Assert.Null(HostileReport.Verdict(body, new HostileOutcome(OutcomeKind.Success, 200, false, null, false, "", TimeSpan.Zero)));
    }

    private static bool IsUtf8(byte[] bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, true).GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
