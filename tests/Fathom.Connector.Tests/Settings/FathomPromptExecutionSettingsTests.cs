using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;

namespace Fathom.Connector.Tests.Settings;

public sealed class FathomPromptExecutionSettingsTests
{
    private static FathomPromptExecutionSettings Full() => new()
    {
        ModelId = "m",
        ServiceId = "svc",
        Temperature = 0.7f,
        TopP = 0.8f,
        TopK = 30,
        MinP = 0.02f,
        MaxTokens = 99,
        Seed = 5,
        StopSequences = ["a", "b"],
        FrequencyPenalty = 0.1f,
        PresencePenalty = 0.2f,
        RepetitionPenalty = 1.3f,
        ResponseFormat = "json_object",
    };

    [Fact]
    public void Json_names_are_snake_case()
    {
        var json = JsonNode.Parse(JsonSerializer.Serialize(Full()))!.AsObject();

        string[] expected = ["temperature", "top_p", "top_k", "min_p", "max_tokens", "seed", "stop_sequences", "frequency_penalty", "presence_penalty", "repetition_penalty", "response_format", "model_id", "service_id"];
        foreach (var name in expected)
        {
            Assert.True(json.ContainsKey(name), $"missing {name} in {json.ToJsonString()}");
        }

        Assert.Equal(30, (int)json["top_k"]!);
        Assert.DoesNotContain(json, p => p.Key.Any(char.IsUpper));
    }

    [Fact]
    public void Unset_values_are_not_serialized()
    {
        var json = JsonNode.Parse(JsonSerializer.Serialize(new FathomPromptExecutionSettings { TopK = 3 }))!.AsObject();

        Assert.Null(json["temperature"]);
        Assert.Equal(3, (int)json["top_k"]!);
    }

    [Fact]
    public void FromExecutionSettings_reads_generic_settings_and_keeps_function_choice()
    {
        var behavior = FunctionChoiceBehavior.Auto();
        var generic = new PromptExecutionSettings
        {
            ModelId = "x",
            FunctionChoiceBehavior = behavior,
            ExtensionData = new Dictionary<string, object> { ["temperature"] = "0.5", ["max_tokens"] = 10, ["stop_sequences"] = new[] { "END" }, ["top_k"] = 8 },
        };

        var fathom = FathomPromptExecutionSettings.FromExecutionSettings(generic);

        Assert.Equal("x", fathom.ModelId);
        Assert.Equal(0.5f, fathom.Temperature);
        Assert.Equal(10, fathom.MaxTokens);
        Assert.Equal(8, fathom.TopK);
        Assert.Equal(["END"], fathom.StopSequences!);
        Assert.Same(behavior, fathom.FunctionChoiceBehavior);
    }

    [Fact]
    public void FromExecutionSettings_returns_the_same_instance_or_defaults()
    {
        var settings = Full();

        Assert.Same(settings, FathomPromptExecutionSettings.FromExecutionSettings(settings));
        Assert.Null(FathomPromptExecutionSettings.FromExecutionSettings(null).Temperature);
    }

    [Fact]
    public void Freeze_makes_every_property_read_only()
    {
        var settings = Full();
        settings.Freeze();

        Assert.Throws<InvalidOperationException>(() => settings.Temperature = 1);
        Assert.Throws<InvalidOperationException>(() => settings.TopK = 1);
        Assert.Throws<InvalidOperationException>(() => settings.StopSequences = []);
        Assert.Throws<NotSupportedException>(() => settings.StopSequences!.Add("c"));
        settings.Freeze(); // idempotent
    }

    [Fact]
    public void Clone_copies_every_value_and_is_not_frozen()
    {
        var original = Full();
        original.Freeze();

        var clone = Assert.IsType<FathomPromptExecutionSettings>(original.Clone());
        clone.Temperature = 0.1f;
        clone.StopSequences!.Add("c");

        Assert.Equal(JsonSerializer.Serialize(Full()), JsonSerializer.Serialize(original));
        Assert.Equal((original.ModelId, original.ServiceId, original.TopP, original.TopK, original.MinP, original.MaxTokens, original.Seed),
            (clone.ModelId, clone.ServiceId, clone.TopP, clone.TopK, clone.MinP, clone.MaxTokens, clone.Seed));
        Assert.Equal((original.FrequencyPenalty, original.PresencePenalty, original.RepetitionPenalty, original.ResponseFormat),
            (clone.FrequencyPenalty, clone.PresencePenalty, clone.RepetitionPenalty, clone.ResponseFormat));
        Assert.Equal(["a", "b"], original.StopSequences!);
    }

    [Fact]
    public void Settings_map_onto_chat_options()
    {
        var options = new ChatOptions();

        Full().ApplyTo(options);

        Assert.Equal((0.7f, 0.8f, 30, 99, 5L), (options.Temperature, options.TopP, options.TopK, options.MaxOutputTokens, options.Seed));
        Assert.Equal((0.1f, 0.2f), (options.FrequencyPenalty, options.PresencePenalty));
        Assert.Equal(["a", "b"], options.StopSequences!);
        Assert.Equal(0.02f, options.AdditionalProperties!["min_p"]);
        Assert.Equal(1.3f, options.AdditionalProperties!["repetition_penalty"]);
        Assert.IsType<ChatResponseFormatJson>(options.ResponseFormat);
    }

    [Fact]
    public void A_json_schema_string_becomes_a_schema_response_format()
    {
        var options = new ChatOptions();

        new FathomPromptExecutionSettings { ResponseFormat = """{"type":"object","properties":{"n":{"type":"integer"}}}""" }.ApplyTo(options);

        var format = Assert.IsType<ChatResponseFormatJson>(options.ResponseFormat);
        Assert.Equal("integer", format.Schema!.Value.GetProperty("properties").GetProperty("n").GetProperty("type").GetString());
    }

    [Fact]
    public void An_unknown_response_format_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => new FathomPromptExecutionSettings { ResponseFormat = "yaml" }.ApplyTo(new ChatOptions()));
    }
}
