using System.Collections.ObjectModel;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;

namespace Fathom.Connector;

/// <summary>
/// Semantic Kernel execution settings for Fathom: OpenAI's sampling parameters plus vLLM's extras
/// (<c>top_k</c>, <c>min_p</c>, <c>repetition_penalty</c>). JSON names are snake_case, as in prompt template configs.
/// </summary>
public sealed class FathomPromptExecutionSettings : PromptExecutionSettings
{
    private static readonly JsonSerializerOptions PermissiveReadOptions = new()
    {
        AllowTrailingCommas = true,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    private float? _temperature;
    private float? _topP;
    private int? _topK;
    private float? _minP;
    private int? _maxTokens;
    private long? _seed;
    private IList<string>? _stopSequences;
    private float? _frequencyPenalty;
    private float? _presencePenalty;
    private float? _repetitionPenalty;
    private object? _responseFormat;

    /// <summary>Sampling temperature; 0 picks the most likely token (greedy, reproducible).</summary>
    [JsonPropertyName("temperature")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? Temperature
    {
        get => _temperature;
        set => Set(ref _temperature, value);
    }

    /// <summary>Nucleus sampling: keep the smallest set of tokens whose probabilities add up to this.</summary>
    [JsonPropertyName("top_p")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? TopP
    {
        get => _topP;
        set => Set(ref _topP, value);
    }

    /// <summary>Keep only the this many most likely tokens (vLLM extra; -1 or absent means all).</summary>
    [JsonPropertyName("top_k")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? TopK
    {
        get => _topK;
        set => Set(ref _topK, value);
    }

    /// <summary>Drop tokens less likely than this fraction of the most likely one (vLLM extra).</summary>
    [JsonPropertyName("min_p")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? MinP
    {
        get => _minP;
        set => Set(ref _minP, value);
    }

    /// <summary>The most tokens to generate.</summary>
    [JsonPropertyName("max_tokens")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? MaxTokens
    {
        get => _maxTokens;
        set => Set(ref _maxTokens, value);
    }

    /// <summary>Seed for sampling: the same seed and inputs give the same output.</summary>
    [JsonPropertyName("seed")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Seed
    {
        get => _seed;
        set => Set(ref _seed, value);
    }

    /// <summary>Strings that end generation when produced (not included in the answer).</summary>
    [JsonPropertyName("stop_sequences")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IList<string>? StopSequences
    {
        get => _stopSequences;
        set => Set(ref _stopSequences, value);
    }

    /// <summary>Penalty proportional to how often a token already appeared (OpenAI semantics, -2..2).</summary>
    [JsonPropertyName("frequency_penalty")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? FrequencyPenalty
    {
        get => _frequencyPenalty;
        set => Set(ref _frequencyPenalty, value);
    }

    /// <summary>Penalty for any token that already appeared (OpenAI semantics, -2..2).</summary>
    [JsonPropertyName("presence_penalty")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? PresencePenalty
    {
        get => _presencePenalty;
        set => Set(ref _presencePenalty, value);
    }

    /// <summary>Multiplicative penalty on repeated tokens (vLLM extra; 1 means none).</summary>
    [JsonPropertyName("repetition_penalty")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public float? RepetitionPenalty
    {
        get => _repetitionPenalty;
        set => Set(ref _repetitionPenalty, value);
    }

    /// <summary>
    /// The answer's format: <c>"json_object"</c> (any JSON), <c>"text"</c>, or a JSON schema
    /// (a <see cref="JsonElement"/>, or a string holding the schema) the answer must follow.
    /// </summary>
    [JsonPropertyName("response_format")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public object? ResponseFormat
    {
        get => _responseFormat;
        set => Set(ref _responseFormat, value);
    }

    /// <summary>
    /// Returns <paramref name="executionSettings"/> as Fathom settings: the same instance when it already is one,
    /// default settings for <see langword="null"/>, else a copy read through the snake_case JSON names.
    /// </summary>
    /// <param name="executionSettings">Settings of any connector, or <see langword="null"/>.</param>
    /// <returns>The Fathom settings.</returns>
    /// <exception cref="ArgumentException">The settings do not convert.</exception>
    public static FathomPromptExecutionSettings FromExecutionSettings(PromptExecutionSettings? executionSettings)
    {
        switch (executionSettings)
        {
            case null:
                return new FathomPromptExecutionSettings();
            case FathomPromptExecutionSettings fathom:
                return fathom;
        }

        FathomPromptExecutionSettings? converted;
        try
        {
            var json = JsonSerializer.Serialize(executionSettings, executionSettings.GetType());
            converted = JsonSerializer.Deserialize<FathomPromptExecutionSettings>(json, PermissiveReadOptions);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"Cannot convert {executionSettings.GetType().Name} to {nameof(FathomPromptExecutionSettings)}: {ex.Message}", nameof(executionSettings), ex);
        }

        if (converted is null)
        {
            throw new ArgumentException($"Cannot convert {executionSettings.GetType().Name} to {nameof(FathomPromptExecutionSettings)}.", nameof(executionSettings));
        }

        // The behavior's list of function instances does not survive JSON.
        converted.FunctionChoiceBehavior = executionSettings.FunctionChoiceBehavior;
        return converted;
    }

    /// <inheritdoc/>
    public override void Freeze()
    {
        if (IsFrozen)
        {
            return;
        }

        base.Freeze();
        if (_stopSequences is not null and not ReadOnlyCollection<string>)
        {
            _stopSequences = new ReadOnlyCollection<string>([.. _stopSequences]);
        }
    }

    /// <inheritdoc/>
    public override PromptExecutionSettings Clone() => new FathomPromptExecutionSettings
    {
        ModelId = ModelId,
        ServiceId = ServiceId,
        FunctionChoiceBehavior = FunctionChoiceBehavior,
        ExtensionData = ExtensionData is null ? null : new Dictionary<string, object>(ExtensionData),
        Temperature = Temperature,
        TopP = TopP,
        TopK = TopK,
        MinP = MinP,
        MaxTokens = MaxTokens,
        Seed = Seed,
        StopSequences = StopSequences is null ? null : [.. StopSequences],
        FrequencyPenalty = FrequencyPenalty,
        PresencePenalty = PresencePenalty,
        RepetitionPenalty = RepetitionPenalty,
        ResponseFormat = ResponseFormat,
    };

    /// <summary>Writes these settings onto <paramref name="options"/> (typed, where SK's generic conversion goes through JSON).</summary>
    /// <param name="options">The options of the request being prepared.</param>
    protected override void PrepareChatOptionsForRequest(ChatOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        base.PrepareChatOptionsForRequest(options);
        ApplyTo(options);
    }

    /// <summary>Writes the set values onto <paramref name="options"/>, leaving the rest as they are.</summary>
    internal void ApplyTo(ChatOptions options)
    {
        options.Temperature = Temperature ?? options.Temperature;
        options.TopP = TopP ?? options.TopP;
        options.TopK = TopK ?? options.TopK;
        options.MaxOutputTokens = MaxTokens ?? options.MaxOutputTokens;
        options.Seed = Seed ?? options.Seed;
        options.FrequencyPenalty = FrequencyPenalty ?? options.FrequencyPenalty;
        options.PresencePenalty = PresencePenalty ?? options.PresencePenalty;
        if (StopSequences is { Count: > 0 } stop)
        {
            options.StopSequences = [.. stop];
        }

        if (MinP is { } minP)
        {
            (options.AdditionalProperties ??= [])["min_p"] = minP;
        }

        if (RepetitionPenalty is { } repetitionPenalty)
        {
            (options.AdditionalProperties ??= [])["repetition_penalty"] = repetitionPenalty;
        }

        if (ToChatResponseFormat(ResponseFormat) is { } format)
        {
            options.ResponseFormat = format;
        }
    }

    private static ChatResponseFormat? ToChatResponseFormat(object? value) => value switch
    {
        null => null,
        ChatResponseFormat format => format,
        "json_object" or "json" => ChatResponseFormat.Json,
        "text" => ChatResponseFormat.Text,
        string schema when schema.TrimStart().StartsWith('{') => ChatResponseFormat.ForJsonSchema(ParseSchema(schema)),
        JsonElement { ValueKind: JsonValueKind.String } element => ToChatResponseFormat(element.GetString()),
        JsonElement { ValueKind: JsonValueKind.Object } schema => ChatResponseFormat.ForJsonSchema(schema),
        _ => throw new ArgumentException($"Unsupported response_format '{value}': use \"json_object\", \"text\" or a JSON schema."),
    };

    private static JsonElement ParseSchema(string schema)
    {
        using var document = JsonDocument.Parse(schema);
        return document.RootElement.Clone();
    }

    private void Set<T>(ref T field, T value)
    {
        ThrowIfFrozen();
        field = value;
    }
}
