using System.Text.Json;
using Fathom.Engine.Sampling;
using Fathom.Engine.Serving;

namespace Fathom.EngineService.OpenAi;

/// <summary>
/// The sampling and streaming fields shared by /v1/chat/completions and /v1/completions, with vLLM's extras: read by
/// the protocol's <see cref="SamplingFields"/> (as the API reads them) and mapped onto the engine's <see cref="SamplingParams"/>.
/// </summary>
internal sealed record SamplingRequest(string? Model, SamplingParams Sampling, bool Stream, bool IncludeUsage)
{
    /// <summary>Reads the request; fields it leaves out take the model's <paramref name="defaults"/> (generation_config.json), else OpenAI's.</summary>
    public static SamplingRequest Parse(JsonElement body, bool chat, GenerationDefaults? defaults = null)
    {
        var fields = SamplingFields.Parse(body, chat);
        if (!chat && fields.TopLogprobs is < 0 or > SamplingParams.MaxTopLogprobs)
        {
            throw OpenAiException.BadRequest($"logprobs must be in [0, {SamplingParams.MaxTopLogprobs}], got {fields.TopLogprobs}.", "logprobs");
        }

        var sampling = new SamplingParams
        {
            Temperature = fields.Temperature ?? defaults?.Temperature ?? 1f,
            TopP = fields.TopP ?? defaults?.TopP ?? 1f,
            TopK = fields.TopK ?? defaults?.TopK ?? 0,
            MinP = fields.MinP ?? 0f,
            RepetitionPenalty = fields.RepetitionPenalty ?? 1f,
            FrequencyPenalty = fields.FrequencyPenalty ?? 0f,
            PresencePenalty = fields.PresencePenalty ?? 0f,
            LogitBias = fields.LogitBias,
            Seed = fields.Seed,
            Logprobs = fields.Logprobs,
            TopLogprobs = fields.TopLogprobs,
            Stop = fields.Stop,
            StopTokenIds = fields.StopTokenIds,
            MaxTokens = fields.MaxTokens, // chat without one: until the context is full, as vLLM
            N = fields.N,
            IgnoreEos = fields.IgnoreEos,
        };
        if (sampling.Stop is { Count: > 4 })
        {
            throw OpenAiException.BadRequest("At most 4 stop sequences are allowed.", "stop");
        }

        sampling.Validate();
        return new SamplingRequest(fields.Model, sampling, fields.Stream, fields.IncludeUsage);
    }
}
