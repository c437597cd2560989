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
        string piece;
        var reason = update.FinishReason;
        if (text.PendingToken == update.Token.TokenId)
        {
            piece = text.PendingText; // the stop hook already detokenized this token
        }
        else if (reason == FinishReason.Stop && sequence.StopTokenId == update.Token.TokenId)
        {
            piece = ""; // stop tokens are not part of the text
        }
        else
        {
            piece = Detokenize(text, update.Token.TokenId);
        }

        text.PendingToken = null;
        text.PendingText = "";
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

    // Called by the scheduler for each appended token that did not end its sequence otherwise.
    private bool ShouldStop(Sequence sequence, int tokenId)
    {
        if (!_requests.TryGetValue(sequence.RequestId, out var state) || state.Request.Sampling.Stop is not { Count: > 0 })
        {
            return false;
        }

        var text = GetSequenceState(state, sequence);
        text.PendingText = Detokenize(text, tokenId);
        text.PendingToken = tokenId;
        return text.Matcher.Stopped;
    }

    private sealed class StopHook(EngineHost host) : ISequenceStopHook
    {
        public bool ShouldStop(Sequence sequence, int tokenId) => host.ShouldStop(sequence, tokenId);
    }

    private sealed class SequenceState(StreamingDetokenizer detokenizer, StopStringMatcher matcher)
    {
        public StreamingDetokenizer Detokenizer { get; } = detokenizer;

        public StopStringMatcher Matcher { get; } = matcher;

        public int? PendingToken { get; set; }

        public string PendingText { get; set; } = "";

        public long? LastTokenTimestamp { get; set; }
    }
}
