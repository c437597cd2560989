namespace Fathom.Engine.Constraints;

/// <summary>
/// One rule's automaton made deterministic over bytes (subset construction over byte classes). Calls stay: a state
/// lists the rules it may call and, per callee, the state to return to (the return targets of all its call edges to
/// that callee merged, so the pushdown automaton branches only where the grammar really is ambiguous).
/// </summary>
internal sealed class RuleDfa
{
    /// <summary>Subset-construction states over all rules before the grammar is refused as too large.</summary>
    public const int MaxStates = 1 << 18;

    private RuleDfa(byte[] classOf, int classCount, int[] next, bool[] accepting, (int Rule, int Return)[][] calls)
    {
        ClassOf = classOf;
        ClassCount = classCount;
        NextTable = next;
        Accepting = accepting;
        Calls = calls;
        HasBytes = new bool[accepting.Length];
        Plain = new bool[accepting.Length];
        for (int s = 0; s < accepting.Length; s++)
        {
            for (int c = 0; c < classCount; c++)
            {
                HasBytes[s] |= next[(s * classCount) + c] >= 0;
            }

            Plain[s] = HasBytes[s] && !accepting[s] && calls[s].Length == 0;
        }
    }

    public byte[] ClassOf { get; }

    public int ClassCount { get; }

    public int[] NextTable { get; }

    public bool[] Accepting { get; }

    /// <summary>Per state: the rules it may call and the state to go on in when the callee ends.</summary>
    public (int Rule, int Return)[][] Calls { get; }

    /// <summary>Per state: whether any byte leads on from it (else it only calls, ends, or is dead).</summary>
    public bool[] HasBytes { get; }

    /// <summary>
    /// Per state: it takes bytes and neither calls nor ends, so a stack on it closes to itself (one array, so the checks
    /// made per step along a string touch one cache line, not three).
    /// </summary>
    public bool[] Plain { get; }

    public int StateCount => Accepting.Length;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<ContentClass, ClassRuns> _classRuns = new();

    /// <summary>The uniform runs of <paramref name="set"/>'s characters from every state, built on first use.</summary>
    public ClassRuns RunsOf(ContentClass set) => _classRuns.GetOrAdd(set, static (s, dfa) => ClassRuns.Build(dfa, s), this);

    /// <summary>The start state is always 0.</summary>
    public const int Start = 0;

    public int Next(int state, byte b) => NextTable[(state * ClassCount) + ClassOf[b]];

    public static RuleDfa Build(Nfa nfa, ref int budget)
    {
        var (classOf, classCount, representatives) = ByteClasses(nfa);
        var ids = new Dictionary<int[], int>(StateSetComparer.Instance);
        var sets = new List<int[]>();
        var next = new List<int>();
        var accepting = new List<bool>();
        var calls = new List<(int, int)[]>();
        int remaining = budget;

        int Intern(int[] set)
        {
            if (!ids.TryGetValue(set, out int id))
            {
                if (--remaining < 0)
                {
                    throw new GrammarTooLargeException($"the grammar's automaton would exceed {MaxStates} deterministic states");
                }

                id = sets.Count;
                ids.Add(set, id);
                sets.Add(set);
            }

            return id;
        }

        var closure = new Closure(nfa);
        Intern(closure.Of([nfa.Start]));
        var targets = new List<int>();

        // Many classes move a state's NFA states to the same targets (every content byte of a string): their closure and
        // interning are done once per state.
        var byTargets = new Dictionary<int[], int>(StateSetComparer.Instance);
        for (int s = 0; s < sets.Count; s++)
        {
            int[] set = sets[s];
            byTargets.Clear();
            for (int c = 0; c < classCount; c++)
            {
                byte rep = representatives[c];
                targets.Clear();
                foreach (int q in set)
                {
                    foreach (var (edgeSet, to) in nfa.Edges[q])
                    {
                        if (edgeSet.Contains(rep))
                        {
                            targets.Add(to);
                        }
                    }
                }

                if (targets.Count == 0)
                {
                    next.Add(-1);
                    continue;
                }

                int[] key = [.. targets];
                if (!byTargets.TryGetValue(key, out int target))
                {
                    target = Intern(closure.Of(targets));
                    byTargets.Add(key, target);
                }

                next.Add(target);
            }

            accepting.Add(Array.IndexOf(set, nfa.Final) >= 0);
            var byCallee = new SortedDictionary<int, List<int>>();
            foreach (int q in set)
            {
                foreach (var (rule, to) in nfa.Calls[q])
                {
                    if (!byCallee.TryGetValue(rule, out var returns))
                    {
                        byCallee[rule] = returns = [];
                    }

                    returns.Add(to);
                }
            }

            calls.Add([.. byCallee.Select(kv => (kv.Key, Intern(closure.Of(kv.Value))))]);
        }

        budget = remaining;
        return new RuleDfa(classOf, classCount, [.. next], [.. accepting], [.. calls]);
    }

    // Bytes no edge tells apart share a class; the DFA's rows have one column per class.
    private static (byte[] ClassOf, int Count, byte[] Representatives) ByteClasses(Nfa nfa)
    {
        var classOf = new int[256];
        int count = 1;
        var seen = new HashSet<ByteSet>();
        foreach (var edges in nfa.Edges)
        {
            foreach (var (set, _) in edges)
            {
                if (!seen.Add(set))
                {
                    continue;
                }

                // Split every class into its members inside and outside the set.
                var split = new Dictionary<int, int>();
                for (int b = 0; b < 256; b++)
                {
                    if (!set.Contains((byte)b))
                    {
                        continue;
                    }

                    int old = classOf[b];
                    if (!split.TryGetValue(old, out int fresh))
                    {
                        fresh = count++;
                        split[old] = fresh;
                    }

                    classOf[b] = fresh;
                }

                // Renumber densely so that the count stays within 256.
                var dense = new Dictionary<int, int>();
                for (int b = 0; b < 256; b++)
                {
                    if (!dense.TryGetValue(classOf[b], out int d))
                    {
                        d = dense.Count;
                        dense[classOf[b]] = d;
                    }

                    classOf[b] = d;
                }

                count = dense.Count;
            }
        }

        var representatives = new byte[count];
        for (int b = 255; b >= 0; b--)
        {
            representatives[classOf[b]] = (byte)b;
        }

        return ([.. classOf.Select(c => (byte)c)], count, representatives);
    }

    private sealed class Closure(Nfa nfa)
    {
        private readonly int[] _mark = new int[nfa.Count];
        private readonly Stack<int> _stack = new();
        private readonly List<int> _result = [];
        private int _generation;

        public int[] Of(IEnumerable<int> seeds)
        {
            _generation++;
            _result.Clear();
            foreach (int s in seeds)
            {
                Visit(s);
            }

            while (_stack.TryPop(out int q))
            {
                foreach (int to in nfa.Epsilon[q])
                {
                    Visit(to);
                }
            }

            // Only states that can do something (take a byte, call, or end) matter: keeping the pass-through ones would
            // split equivalent DFA states (e.g. after an ASCII character vs after a multi-byte one).
            int[] set = [.. _result.Where(q => nfa.Edges[q].Count > 0 || nfa.Calls[q].Count > 0 || q == nfa.Final)];
            Array.Sort(set);
            return set;
        }

        private void Visit(int q)
        {
            if (_mark[q] != _generation)
            {
                _mark[q] = _generation;
                _result.Add(q);
                _stack.Push(q);
            }
        }
    }

    private sealed class StateSetComparer : IEqualityComparer<int[]>
    {
        public static StateSetComparer Instance { get; } = new();

        public bool Equals(int[]? x, int[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(int[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(obj.AsSpan()));
            return hash.ToHashCode();
        }
    }
}
