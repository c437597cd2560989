using System.Text.Json;
using Fathom.Engine.Sampling;

namespace Fathom.EngineService.OpenAi;

/// <summary>The sampling and streaming fields shared by /v1/chat/completions and /v1/completions, with vLLM's extras.</summary>
internal sealed record SamplingRequest(string? Model, SamplingParams Sampling, bool Stream, bool IncludeUsage)
{
    public static SamplingRequest Parse(JsonElement body, bool chat)
    {
        bool logprobs;
        int topLogprobs;
        if (chat)
        {
            logprobs = body.GetBool("logprobs") ?? false;
            topLogprobs = body.GetInt("top_logprobs") ?? 0;
        }
        else
        {
            // Completions: logprobs is the number of alternatives (0..5), null for none.
            int? count = body.GetInt("logprobs");
            if (count is < 0 or > SamplingParams.MaxTopLogprobs)
            {
                throw OpenAiException.BadRequest($"logprobs must be in [0, {SamplingParams.MaxTopLogprobs}], got {count}.", "logprobs");
            }

            logprobs = count is not null;
            topLogprobs = count ?? 0;
            if (body.GetBool("echo") == true)
            {
                throw OpenAiException.BadRequest("echo is not supported.", "echo");
            }

            if (body.GetString("suffix") is { Length: > 0 })
            {
                throw OpenAiException.BadRequest("suffix is not supported.", "suffix");
            }
        }

        int n = body.GetInt("n") ?? 1;
        if (body.GetInt("best_of") is { } bestOf && bestOf != n)
        {
            throw OpenAiException.BadRequest("best_of other than n is not supported.", "best_of");
        }

        int? maxTokens = (chat ? body.GetInt("max_completion_tokens") : null) ?? body.GetInt("max_tokens");
        var sampling = new SamplingParams
        {
            Temperature = body.GetFloat("temperature") ?? 1f,
            TopP = body.GetFloat("top_p") ?? 1f,
            TopK = body.GetInt("top_k") ?? 0,
            MinP = body.GetFloat("min_p") ?? 0f,
            RepetitionPenalty = body.GetFloat("repetition_penalty") ?? 1f,
            FrequencyPenalty = body.GetFloat("frequency_penalty") ?? 0f,
            PresencePenalty = body.GetFloat("presence_penalty") ?? 0f,
            LogitBias = body.GetLogitBias("logit_bias"),
            Seed = body.GetLong("seed"),
            Logprobs = logprobs,
            TopLogprobs = topLogprobs,
            Stop = body.GetStringOrArray("stop"),
            StopTokenIds = body.GetIntArray("stop_token_ids"),
            MaxTokens = maxTokens ?? (chat ? null : 16), // chat: until the context is full, as vLLM
            N = n,
            IgnoreEos = body.GetBool("ignore_eos") ?? false,
        };
        if (sampling.Stop is { Count: > 4 })
        {
            throw OpenAiException.BadRequest("At most 4 stop sequences are allowed.", "stop");
        }

        sampling.Validate();
        bool stream = body.GetBool("stream") ?? false;
        bool includeUsage = false;
        if (body.Get("stream_options") is { } options)
        {
            if (options.ValueKind != JsonValueKind.Object)
            {
                throw RequestJson.Invalid("stream_options", "an object");
            }

            includeUsage = options.GetBool("include_usage") ?? false;
        }

        return new SamplingRequest(body.GetString("model"), sampling, stream, includeUsage);
    }
}
