using System.Diagnostics;
using Fathom.Engine.Diagnostics;
using Fathom.Engine.Sampling;
using Fathom.Engine.Tokenization;

namespace Fathom.Engine.Scheduling;

public sealed partial class EngineHost
{
    private void Deliver(RequestState state, SequenceUpdate update, long now)
    {
        var sequence = update.Sequence;
        var text = GetSequenceState(state, sequence);
        var reason = update.FinishReason;
        // Stop tokens are not part of the text.
        string piece = reason == FinishReason.Stop && sequence.StopTokenId == update.Token.TokenId
            ? ""
            : Detokenize(text, update.Token.TokenId);
        if (reason is null && text.Matcher.Stopped)
        {
            // Only the text shows a stop string: end the sequence here, on the loop thread, before the next step
            // schedules it again (as vLLM's output processor does).
            _core.FinishSequence(sequence.Id, FinishReason.Stop);
            reason = FinishReason.Stop;
        }

        if (reason is not null && !text.Matcher.Stopped)
        {
            piece += text.Matcher.Append(text.Detokenizer.Flush()) + text.Matcher.Flush();
        }

        if (reason == FinishReason.Length && text.Matcher.Stopped)
        {
            reason = FinishReason.Stop; // the last token also completed a stop string
        }

        if (state.CompletionTokens == 0)
        {
            EngineTracing.FirstToken(state.Activity, Stopwatch.GetElapsedTime(state.ArrivalTimestamp, now));
        }

        state.CompletionTokens++;
        state.CachedTokens = Math.Max(state.CachedTokens, sequence.CachedPromptTokens ?? 0);
        _metrics?.TokenGenerated(Stopwatch.GetElapsedTime(state.ArrivalTimestamp, now),
            text.LastTokenTimestamp is { } last ? Stopwatch.GetElapsedTime(last, now) : null);
        text.LastTokenTimestamp = now;
        state.Writer.TryWrite(new GenerationOutput(sequence.Index, piece, update.Token, reason));
        if (reason is not null)
        {
            _sequences.Remove(sequence.Id);
            if (++state.FinishedSequences == state.Request.Sampling.N)
            {
                FinishRequest(state, null);
            }
        }
    }

    private SequenceState GetSequenceState(RequestState state, Sequence sequence)
    {
        if (!_sequences.TryGetValue(sequence.Id, out var text))
        {
            text = new SequenceState(_tokenizer.CreateStreamingDetokenizer(), new StopStringMatcher(state.Request.Sampling.Stop));
            _sequences[sequence.Id] = text;
            state.SequenceIds.Add(sequence.Id);
        }

        return text;
    }

    private static string Detokenize(SequenceState text, int tokenId) => text.Matcher.Append(text.Detokenizer.Append(tokenId));

    private sealed class SequenceState(StreamingDetokenizer detokenizer, StopStringMatcher matcher)
    {
        public StreamingDetokenizer Detokenizer { get; } = detokenizer;

        public StopStringMatcher Matcher { get; } = matcher;

        public long? LastTokenTimestamp { get; set; }
    }
}
