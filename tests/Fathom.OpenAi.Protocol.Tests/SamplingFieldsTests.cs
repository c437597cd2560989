using System.Text.Json;
using Fathom.OpenAi.Protocol.Requests;

namespace Fathom.OpenAi.Protocol.Tests;

/// <summary>The request reader the API and the engine share: what each field reads as, and which field an error names.</summary>
public sealed class SamplingFieldsTests
{
    private static SamplingFields Parse(string json, bool chat = true)
    {
        using var document = JsonDocument.Parse(json);
        return SamplingFields.Parse(document.RootElement, chat);
    }

    private static RequestFieldException Rejects(string json, bool chat = true) =>
        Assert.Throws<RequestFieldException>(() => Parse(json, chat));

    [Theory]
    [InlineData("""{"max_tokens":4096}""")]
    [InlineData("""{"max_tokens":4096.0}""")]
    [InlineData("""{"max_tokens":4.096e3}""")]
    [InlineData("""{"max_completion_tokens":4096.0,"max_tokens":7}""")]
    public void Whole_floats_read_as_integers(string json) => Assert.Equal(4096, Parse(json).MaxTokens);

    [Theory]
    [InlineData("""{"max_tokens":4096.5}""", "max_tokens")]
    [InlineData("""{"max_tokens":"4096"}""", "max_tokens")]
    [InlineData("""{"max_tokens":1e300}""", "max_tokens")]
    [InlineData("""{"n":2.5}""", "n")]
    [InlineData("""{"n":true}""", "n")]
    [InlineData("""{"temperature":"hot"}""", "temperature")]
    [InlineData("""{"stream":"yes"}""", "stream")]
    [InlineData("""{"stream_options":[]}""", "stream_options")]
    [InlineData("""{"stream_options":{"include_usage":1}}""", "include_usage")]
    [InlineData("""{"stop":[1]}""", "stop")]
    [InlineData("""{"stop_token_ids":[1.5]}""", "stop_token_ids")]
    [InlineData("""{"logit_bias":{"x":1}}""", "logit_bias")]
    [InlineData("""{"model":5}""", "model")]
    [InlineData("""{"n":2,"best_of":3}""", "best_of")]
    [InlineData("""{"model":"\ud800"}""", "model")]
    public void A_field_of_the_wrong_kind_is_an_error_naming_it(string json, string param)
    {
        var error = Rejects(json);

        Assert.Equal(param, error.Param);
        Assert.Contains(param, error.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorTypes.InvalidRequest, error.ToErrorResponse().Error.Type);
    }

    [Fact]
    public void Chat_without_max_tokens_has_none_and_completions_default_to_16()
    {
        Assert.Null(Parse("{}", chat: true).MaxTokens);
        Assert.Equal(SamplingFields.CompletionsDefaultMaxTokens, Parse("{}", chat: false).MaxTokens);
        Assert.Equal(1, Parse("{}").N);
    }

    [Fact]
    public void Every_field_reads_into_its_property()
    {
        var fields = Parse("""
            {"model":"m","temperature":0.5,"top_p":0.9,"top_k":40.0,"min_p":0.1,"repetition_penalty":1.1,
             "frequency_penalty":0.2,"presence_penalty":0.3,"logit_bias":{"5":-100},"seed":42.0,"logprobs":true,
             "top_logprobs":3,"stop":"x","stop_token_ids":[7],"max_tokens":9,"n":3.0,"ignore_eos":true,
             "stream":true,"stream_options":{"include_usage":true}}
            """);

        Assert.Equal(new SamplingFields
        {
            Model = "m", Temperature = 0.5f, TopP = 0.9f, TopK = 40, MinP = 0.1f, RepetitionPenalty = 1.1f,
            FrequencyPenalty = 0.2f, PresencePenalty = 0.3f, LogitBias = fields.LogitBias, Seed = 42, Logprobs = true,
            TopLogprobs = 3, Stop = fields.Stop, StopTokenIds = fields.StopTokenIds, MaxTokens = 9, N = 3, IgnoreEos = true,
            Stream = true, IncludeUsage = true,
        }, fields);
        Assert.Equal(-100f, fields.LogitBias![5]);
        Assert.Equal(["x"], fields.Stop!);
        Assert.Equal([7], fields.StopTokenIds!);
    }

    [Fact]
    public void Completions_logprobs_is_a_count_and_echo_and_suffix_are_refused()
    {
        var fields = Parse("""{"logprobs":2.0}""", chat: false);
        Assert.True(fields.Logprobs);
        Assert.Equal(2, fields.TopLogprobs);
        Assert.Equal("echo", Rejects("""{"echo":true}""", chat: false).Param);
        Assert.Equal("suffix", Rejects("""{"suffix":"s"}""", chat: false).Param);
    }

    [Fact]
    public void Null_reads_as_absent()
    {
        var fields = Parse("""{"max_tokens":null,"n":null,"stream":null,"stream_options":null,"stop":null}""");

        Assert.Null(fields.MaxTokens);
        Assert.Equal(1, fields.N);
        Assert.False(fields.Stream);
        Assert.Null(fields.Stop);
    }
}
