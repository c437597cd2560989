using System.Collections.Concurrent;

namespace Fathom.Engine.Constraints;

/// <summary>
/// Finds, for a configuration, a run of string-content characters the mask need not walk: a <see cref="ContentClass"/>
/// whose every character leads to one same configuration, again and again for k steps. Then every token of at most k
/// class characters is allowed (each of its characters takes the same path), so the mask starts from the class's
/// precomputed tokens and the trie walk skips their subtrees. This covers free string content (k unbounded, a loop),
/// counted strings such as <c>maxLength</c> (k is the characters left) and character-class loops of formats (the
/// email's alphanumeric runs). The run lengths are memoized per (configuration, class), so the next position of a
/// counted string costs a lookup. Thread-safe.
/// </summary>
internal sealed class ContentRuns(TokenTables tables)
{
    // Classes with fewer ASCII characters than this are walked: their tokens are few (digits: about 1,100 of Llama-3's),
    // and each new class costs a table build (milliseconds) on the first mask that meets it.
    private const int MinClassSize = 16;

    private const int Dead = -1;

    // Uniform steps followed per mask before settling for a lower bound (see RunLength).
    private const int StepsPerMask = 24;

    // Not a configuration: the characters of the class lead to different places.
    private const int Mixed = -3;

    private static readonly (int Low, int High, int Remaining, int First, int Last)[] Leads =
    [
        (0xC2, 0xDF, 1, 0x80, 0xBF), (0xE0, 0xE0, 2, 0xA0, 0xBF), (0xE1, 0xEC, 2, 0x80, 0xBF), (0xED, 0xED, 2, 0x80, 0x9F),
        (0xEE, 0xEF, 2, 0x80, 0xBF), (0xF0, 0xF0, 3, 0x90, 0xBF), (0xF1, 0xF3, 3, 0x80, 0xBF), (0xF4, 0xF4, 3, 0x80, 0x8F),
    ];

    private readonly TokenTables _tables = tables;
    private readonly ConcurrentDictionary<(int Config, ContentClassTokens Class), int> _runs = new();
    private readonly ConcurrentDictionary<(int Config, ContentClassTokens Class), (int Frontier, int Distance)> _partial = new();

    /// <summary>
    /// The class tokens and how many class characters may follow <paramref name="config"/> (at least 1, at most the
    /// class's longest token), or null when no class of at least <see cref="MinClassSize"/> characters leads on uniformly.
    /// </summary>
    public ContentRun? Find(int config)
    {
        // The class: the largest group of ASCII content bytes that lead to one same live configuration. With one stack,
        // bytes that reach one same state of its rule reach one same configuration, so its automaton answers directly.
        var single = _tables.SingleStack(config);
        var targets = new Dictionary<int, ContentClass>();
        for (int b = 0x20; b <= 0x7F; b++)
        {
            if (ContentClass.IsCandidate(b))
            {
                int next = single is var (dfa, state) ? dfa.Next(state, (byte)b) : _tables.Step(config, (byte)b);
                if (next >= 0)
                {
                    targets[next] = targets.GetValueOrDefault(next).With((byte)b);
                }
            }
        }

        int target = Dead;
        var set = default(ContentClass);
        foreach (var (next, group) in targets)
        {
            if (group.AsciiCount > set.AsciiCount)
            {
                (target, set) = (next, group);
            }
        }

        if (set.AsciiCount < MinClassSize)
        {
            return null;
        }

        if (single is var (ruleDfa, from) ? ruleDfa.RunsOf(ContentClass.JsonString).NonAsciiLeadsTo(from, target) : NonAsciiLeadsTo(config, target))
        {
            set = set with { NonAscii = true };
        }

        if (_tables.Vocabulary.Trie.ClassTokens(set) is not { MaxLength: > 0 } tokens)
        {
            return null;
        }

        if (single is var (onDfa, at))
        {
            // On the rule's automaton alone: each state on the way is again a one-stack configuration's.
            var runs = onDfa.RunsOf(set);
            int length = runs.Length[at];
            return new ContentRun(tokens, Math.Min(length, tokens.MaxLength), runs.Exhaustive[at] || length >= tokens.MaxLength);
        }

        int run = RunLength(config, set, tokens);
        return new ContentRun(tokens, run, run == tokens.MaxLength);
    }

    // How many class characters in a row keep the configuration on a uniform path (capped at the longest class token).
    // Explores at most StepsPerMask new steps per call, so a long counted string spreads its cost over its positions:
    // a path not yet followed to its end gives a lower bound (tokens up to it are skipped, longer ones are walked).
    private int RunLength(int config, ContentClass set, ContentClassTokens tokens)
    {
        int cap = tokens.MaxLength;
        if (_runs.TryGetValue((config, tokens), out int exact))
        {
            return exact;
        }

        int at = config;
        int offset = 0;
        if (_partial.TryGetValue((config, tokens), out var resume))
        {
            (at, offset) = resume;
        }

        var chain = new List<int>();
        var onChain = new HashSet<int>();
        int tail; // run length from the configuration after the chain's last one
        while (true)
        {
            if (_runs.TryGetValue((at, tokens), out int known))
            {
                tail = known;
                break;
            }

            if (!onChain.Add(at))
            {
                tail = cap; // a loop: every class token fits
                break;
            }

            if (chain.Count == StepsPerMask)
            {
                // Not followed to its end: each configuration on the chain is at least its distance from the frontier.
                for (int k = 0; k < chain.Count; k++)
                {
                    Record(chain[k], tokens, at, chain.Count - k, cap);
                }

                if (offset > 0)
                {
                    Record(config, tokens, at, offset + chain.Count, cap);
                }

                return Math.Min(cap, offset + chain.Count);
            }

            chain.Add(at);
            int next = UniformStep(at, set);
            if (next < 0)
            {
                tail = -1; // the last configuration on the chain takes no step: its run is 0
                break;
            }

            at = next;
        }

        // Walk back: each configuration's run is one more than its successor's.
        int run = tail;
        for (int k = chain.Count - 1; k >= 0; k--)
        {
            run = Math.Min(cap, run + 1);
            _runs.TryAdd((chain[k], tokens), run);
        }

        run = Math.Min(cap, offset + Math.Max(run, 0));
        _runs.TryAdd((config, tokens), run);
        return run;
    }

    private void Record(int config, ContentClassTokens tokens, int frontier, int distance, int cap)
    {
        if (distance >= cap)
        {
            _runs.TryAdd((config, tokens), cap);
        }
        else
        {
            _partial[(config, tokens)] = (frontier, distance);
        }
    }

    // The one configuration every character of the class leads to, or Dead/Mixed when they die or part ways.
    private int UniformStep(int config, ContentClass set)
    {
        if (_tables.SingleStack(config) is var (dfa, state))
        {
            return DfaUniformStep(config, dfa, state, set);
        }

        int target = Mixed;
        for (int b = 0x20; b <= 0x7F; b++)
        {
            if (set.Contains((byte)b))
            {
                int next = _tables.Step(config, (byte)b);
                if (target == Mixed)
                {
                    target = next;
                }
                else if (next != target)
                {
                    return Mixed;
                }
            }
        }

        if (target < 0)
        {
            return Mixed; // dead for this class: the run ends here
        }

        return !set.NonAscii || NonAsciiLeadsTo(config, target) ? target : Mixed;
    }

    // UniformStep for a one-stack configuration, on its rule's automaton: no configuration is made for the bytes inside a
    // character (each would be a one-stack configuration of a plain state, so the path is the automaton's own).
    private int DfaUniformStep(int config, RuleDfa dfa, int state, ContentClass set)
    {
        if (dfa.RunsOf(set).UniformTarget(state) < 0)
        {
            return Mixed;
        }

        for (int b = 0x20; b <= 0x7F; b++)
        {
            if (set.Contains((byte)b))
            {
                return _tables.Step(config, (byte)b);
            }
        }

        return Mixed;
    }

    // Whether every non-ASCII UTF-8 character leads from the configuration to the target, checked along UTF-8's structure.
    private bool NonAsciiLeadsTo(int config, int target)
    {
        var seen = new HashSet<(int, int, int, int)>();
        bool Tail(int at, int remaining, int low, int high)
        {
            if (!seen.Add((at, remaining, low, high)))
            {
                return true;
            }

            for (int b = low; b <= high; b++)
            {
                int next = _tables.Step(at, (byte)b);
                if (next < 0 || (remaining == 1 ? next != target : !Tail(next, remaining - 1, 0x80, 0xBF)))
                {
                    return false;
                }
            }

            return true;
        }

        foreach (var (low, high, remaining, first, last) in Leads)
        {
            for (int lead = low; lead <= high; lead++)
            {
                int next = _tables.Step(config, (byte)lead);
                if (next < 0 || !Tail(next, remaining, first, last))
                {
                    return false;
                }
            }
        }

        return true;
    }
}

/// <summary>
/// A run found by <see cref="ContentRuns.Find"/>: every token of at most <see cref="Length"/> characters of the class is
/// allowed; if <see cref="Exhaustive"/>, every longer class token is refused (no walk needed to know it).
/// </summary>
internal readonly record struct ContentRun(ContentClassTokens Tokens, int Length, bool Exhaustive);
