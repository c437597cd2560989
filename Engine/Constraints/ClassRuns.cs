using System.Runtime.CompilerServices;

namespace Fathom.Engine.Constraints;

/// <summary>
/// For one rule automaton and one <see cref="ContentClass"/>: per state, how many class characters in a row lead every
/// class character to one same state (following the automaton alone while the states on the way neither call nor end),
/// and whether the run ends where no class character may follow. A counted string (<c>maxLength</c>) is a chain of such
/// states, one per position: computing the whole table at once costs one pass over the automaton (most states fail on
/// their first byte class), so no mask has to follow a 120-position chain. Built with the grammar for JSON string
/// content (<see cref="CompiledGrammar"/>), on first use for other classes. Immutable once built.
/// </summary>
internal sealed class ClassRuns
{
    /// <summary>A run that loops: every class token fits.</summary>
    public const int Unbounded = int.MaxValue;

    private static readonly (int Low, int High, int Remaining, int First, int Last)[] Utf8Leads =
    [
        (0xC2, 0xDF, 1, 0x80, 0xBF), (0xE0, 0xE0, 2, 0xA0, 0xBF), (0xE1, 0xEC, 2, 0x80, 0xBF), (0xED, 0xED, 2, 0x80, 0x9F),
        (0xEE, 0xEF, 2, 0x80, 0xBF), (0xF0, 0xF0, 3, 0x90, 0xBF), (0xF1, 0xF3, 3, 0x80, 0xBF), (0xF4, 0xF4, 3, 0x80, 0x8F),
    ];

    private readonly RuleDfa _dfa;
    private readonly int[] _asciiClasses;
    private readonly bool _nonAscii;
    private readonly Lead[] _leads;
    private readonly int[] _continuation;

    private ClassRuns(RuleDfa dfa, ContentClass set)
    {
        _dfa = dfa;
        _nonAscii = set.NonAscii;
        _asciiClasses = DistinctClasses(dfa, 0x20, 0x7F, b => set.Contains((byte)b));
        _continuation = DistinctClasses(dfa, 0x80, 0xBF);
        _leads = [.. Utf8Leads.Select(l => new Lead(
            DistinctClasses(dfa, l.Low, l.High),
            l.Remaining,
            l.First == 0x80 && l.Last == 0xBF ? _continuation : DistinctClasses(dfa, l.First, l.Last)))];
        Length = new int[dfa.StateCount];
        Exhaustive = new bool[dfa.StateCount];
        Fill();
    }

    /// <summary>Per state: the class characters that may follow uniformly (<see cref="Unbounded"/> for a loop).</summary>
    public int[] Length { get; }

    /// <summary>Per state: class tokens longer than the run are refused (it is exact and ends where no class character lives), or it is unbounded.</summary>
    public bool[] Exhaustive { get; }

    public static ClassRuns Build(RuleDfa dfa, ContentClass set) => new(dfa, set);

    /// <summary>
    /// The state every character of the class moves the automaton to from <paramref name="state"/> (multi-byte
    /// characters through plain states), or -1 when they die or part ways.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int UniformTarget(int state)
    {
        int[] next = _dfa.NextTable;
        int row = state * _dfa.ClassCount;
        int target = -1;
        foreach (int c in _asciiClasses)
        {
            int to = next[row + c];
            if (to < 0 || (target >= 0 && to != target))
            {
                return -1;
            }

            target = to;
        }

        return target >= 0 && (!_nonAscii || NonAsciiLeadsTo(state, target)) ? target : -1;
    }

    /// <summary>Whether every non-ASCII character leads from <paramref name="state"/> to <paramref name="target"/> through plain states.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool NonAsciiLeadsTo(int state, int target)
    {
        // Continuation states already checked for any continuation byte (the lead ranges share them): each is visited once.
        Span<int> checkedStates = stackalloc int[16];
        Span<int> checkedRemaining = stackalloc int[16];
        int checkedCount = 0;
        int classCount = _dfa.ClassCount;
        foreach (var (leads, remaining, first) in _leads)
        {
            foreach (int c in leads)
            {
                int to = _dfa.NextTable[(state * classCount) + c];
                if (to < 0 || !Tail(to, remaining, first, target, checkedStates, checkedRemaining, ref checkedCount))
                {
                    return false;
                }
            }
        }

        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Tail(int at, int remaining, int[] classes, int target, Span<int> checkedStates, Span<int> checkedRemaining, ref int checkedCount)
    {
        bool any = ReferenceEquals(classes, _continuation);
        if (any)
        {
            for (int k = 0; k < checkedCount; k++)
            {
                if (checkedStates[k] == at && checkedRemaining[k] == remaining)
                {
                    return true;
                }
            }
        }

        if (!_dfa.Plain[at])
        {
            return false;
        }

        int row = at * _dfa.ClassCount;
        foreach (int c in classes)
        {
            int to = _dfa.NextTable[row + c];
            if (to < 0 || (remaining == 1 ? to != target : !Tail(to, remaining - 1, _continuation, target, checkedStates, checkedRemaining, ref checkedCount)))
            {
                return false;
            }
        }

        if (any && checkedCount < checkedStates.Length)
        {
            checkedStates[checkedCount] = at;
            checkedRemaining[checkedCount++] = remaining;
        }

        return true;
    }

    // No class character can follow: every ASCII one dies, and so does every UTF-8 lead byte when the class holds them.
    private bool NoClassCharacterLives(int state)
    {
        int row = state * _dfa.ClassCount;
        foreach (int c in _asciiClasses)
        {
            if (_dfa.NextTable[row + c] >= 0)
            {
                return false;
            }
        }

        if (_nonAscii)
        {
            foreach (var lead in _leads)
            {
                foreach (int c in lead.Classes)
                {
                    if (_dfa.NextTable[row + c] >= 0)
                    {
                        return false;
                    }
                }
            }
        }

        return true;
    }

    // Per state, iteratively (a chain may be thousands of states long): follow uniform targets until a state already
    // known, a dead end, a state that calls or ends (its configuration may hold several stacks: the run there is a lower
    // bound, so what precedes it is not exhaustive), or a loop; then fill the path backwards.
    private void Fill()
    {
        int count = _dfa.StateCount;
        var target = new int[count];
        for (int s = 0; s < count; s++)
        {
            target[s] = UniformTarget(s);
        }

        var mark = new byte[count]; // 0 new, 1 on the current path, 2 done
        var path = new List<int>();
        for (int s = 0; s < count; s++)
        {
            if (mark[s] != 0)
            {
                continue;
            }

            path.Clear();
            int at = s;
            int tail;
            bool tailDead;
            while (true)
            {
                if (mark[at] == 2)
                {
                    (tail, tailDead) = (Length[at], Exhaustive[at]);
                    break;
                }

                if (mark[at] == 1)
                {
                    (tail, tailDead) = (Unbounded, true);
                    break;
                }

                mark[at] = 1;
                path.Add(at);
                int to = target[at];
                if (to < 0)
                {
                    path.RemoveAt(path.Count - 1);
                    (Length[at], Exhaustive[at], mark[at]) = (0, NoClassCharacterLives(at), 2);
                    (tail, tailDead) = (0, Exhaustive[at]);
                    break;
                }

                if (!_dfa.Plain[to])
                {
                    (tail, tailDead) = (0, false);
                    break;
                }

                at = to;
            }

            for (int k = path.Count - 1; k >= 0; k--)
            {
                tail = tail == Unbounded ? Unbounded : tail + 1;
                (Length[path[k]], Exhaustive[path[k]], mark[path[k]]) = (tail, tailDead, 2);
            }
        }
    }

    private static int[] DistinctClasses(RuleDfa dfa, int low, int high, Func<int, bool>? include = null)
    {
        var classes = new List<int>();
        for (int b = low; b <= high; b++)
        {
            if ((include is null || include(b)) && !classes.Contains(dfa.ClassOf[b]))
            {
                classes.Add(dfa.ClassOf[b]);
            }
        }

        return [.. classes];
    }

    private readonly record struct Lead(int[] Classes, int Remaining, int[] First);
}
