using System.Runtime.CompilerServices;

namespace Fathom.Engine.Constraints;

/// <summary>
/// The pushdown automaton over one grammar, made deterministic lazily, plus the token masks per state for one vocabulary.
/// A configuration is the set of parse stacks alive after some bytes (each stack a chain of (rule, DFA state) frames,
/// interned so equal stacks share an id); stepping a configuration by a byte is memoized in a 256-entry row, so walking
/// the token trie is an array lookup per trie node once the rows are warm. Each configuration's token mask is computed
/// once and shared by every sequence on this grammar: the same schema reached again costs a copy.
/// Thread-safe: lookups read published arrays without locking; creating configurations and rows takes a lock.
/// </summary>
internal sealed class TokenTables
{
    /// <summary>Stacks deeper than this are dropped (nesting beyond it is not generated), so recursion stays bounded.</summary>
    public const int MaxStackDepth = 512;

    /// <summary>Configurations one table set may hold before <see cref="Grammar"/> starts a fresh one (rows are 1 KB each).</summary>
    public const int MaxConfigurations = 50_000;

    /// <summary>Masks cached per table set (each is Size/8 bytes: 16 KB for Llama-3); beyond it masks are recomputed.</summary>
    public const int MaxCachedMasks = 2048;

    private const int Unknown = -2;
    private const int Dead = -1;

    private readonly CompiledGrammar _grammar;
    private readonly ConstraintVocabulary _vocabulary;
    private readonly Lock _lock = new();
    private readonly ContentRuns _contentRuns;

    // Stacks: frame (rule, state) on top of parent stack id (-1 for none).
    private readonly Dictionary<(int Rule, int State, int Parent), int> _stackIds = [];
    private readonly List<(int Rule, int State, int Parent, int Depth)> _stacks = [];

    // Configurations.
    private readonly Dictionary<int, int> _plainConfigs = [];
    private readonly Dictionary<ConfigKey, int> _configIds = [];
    private readonly List<int[]> _configStacks = [];
    private readonly List<bool> _deadFilled = [];
    private volatile int[][] _rows = new int[16][];
    private volatile ulong[]?[] _masks = new ulong[16][];
    private int _configCount;
    private int _maskCount;

    public TokenTables(CompiledGrammar grammar, ConstraintVocabulary vocabulary)
    {
        _grammar = grammar;
        _vocabulary = vocabulary;
        _contentRuns = new ContentRuns(this);
        lock (_lock)
        {
            int root = InternStack(0, RuleDfa.Start, -1);
            InitialConfig = CloseAndIntern([root]);
        }
    }

    /// <summary>The configuration before any byte; -1 if the grammar matches nothing.</summary>
    public int InitialConfig { get; }

    public ConstraintVocabulary Vocabulary => _vocabulary;

    public bool CanEnd(int config) => _rows[config][256] != 0;

    /// <summary>Whether no byte can follow (the configuration has no live stack).</summary>
    public bool IsFinal(int config)
    {
        lock (_lock)
        {
            return _configStacks[config].Length == 0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Step(int config, byte b)
    {
        int next = Volatile.Read(ref _rows[config][b]);
        return next != Unknown ? next : SlowStep(config, b);
    }

    /// <summary>The configuration after <paramref name="bytes"/>, or -1 if they leave the grammar.</summary>
    public int Walk(int config, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            config = Step(config, b);
            if (config < 0)
            {
                return Dead;
            }
        }

        return config;
    }

    /// <summary>The tokens (end tokens excluded) whose bytes keep <paramref name="config"/> alive; computed once, then shared.</summary>
    public ulong[] MaskOf(int config)
    {
        var masks = _masks;
        if (config < masks.Length && masks[config] is { } cached)
        {
            return cached;
        }

        var mask = ComputeMask(config);
        lock (_lock)
        {
            if (_masks[config] is { } other)
            {
                return other;
            }

            if (_maskCount < MaxCachedMasks)
            {
                _masks[config] = mask;
                _maskCount++;
            }

            return mask;
        }
    }

    /// <summary>The rule automaton and state of the configuration's only stack, or null when it has several (or none).</summary>
    public (RuleDfa Dfa, int State)? SingleStack(int config)
    {
        lock (_lock)
        {
            if (_configStacks[config] is [int only])
            {
                var (rule, state, _, _) = _stacks[only];
                return (_grammar.Rules[rule], state);
            }

            return null;
        }
    }

    /// <summary>The configurations created so far.</summary>
    public int ConfigCount => Volatile.Read(ref _configCount);


    private ulong[] ComputeMask(int config)
    {
        var run = _contentRuns.Find(config);
        if (run is { Exhaustive: true } exhaustive)
        {
            // Class tokens up to the run's length are allowed and longer ones refused: walk only what is left.
            var residual = exhaustive.Tokens.Residual;
            var start = (ulong[])exhaustive.Tokens.UpTo[exhaustive.Length].Clone();
            return Walk(config, start, residual.NodeByte, residual.Depth, residual.SubtreeEnd, residual.TokenStart, residual.Tokens, null, -1);
        }

        var trie = _vocabulary.Trie;
        var mask = run is { } found ? (ulong[])found.Tokens.UpTo[found.Length].Clone() : new ulong[_vocabulary.Words];
        return Walk(config, mask, trie.NodeByte, trie.Depth, trie.SubtreeEnd, trie.TokenStart, trie.Tokens,
            run?.Tokens.SubtreeMaxLength, run?.Length ?? -1);
    }

    // Walks a depth-first trie layout from the configuration, adding the tokens of every node it reaches alive. Subtrees
    // whose tokens are all class tokens of at most runLength characters are skipped: they are in the mask already.
    // Optimized from the first call: a schema's first masks are what a cold request waits for, not unoptimized JIT code.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ulong[] Walk(int config, ulong[] mask, byte[] nodeByte, int[] depth, int[] subtreeEnd, int[] tokenStart, int[] tokens,
        int[]? runSubtree, int runLength)
    {
        int maxDepth = _vocabulary.Trie.MaxDepth;
        Span<int> at = maxDepth < 256 ? stackalloc int[maxDepth + 1] : new int[maxDepth + 1];
        at[0] = config;
        int[][] rows = _rows;
        int i = 0;
        int count = nodeByte.Length;
        while (i < count)
        {
            if (runSubtree is not null && (uint)runSubtree[i] <= (uint)runLength)
            {
                i = subtreeEnd[i];
                continue;
            }

            int from = at[depth[i] - 1];
            int next = rows[from][nodeByte[i]];
            if (next == Unknown)
            {
                next = SlowStep(from, nodeByte[i]);
                rows = _rows;
            }

            if (next < 0)
            {
                i = subtreeEnd[i];
                continue;
            }

            if (next >= rows.Length)
            {
                rows = _rows;
            }

            at[depth[i]] = next;
            for (int t = tokenStart[i]; t < tokenStart[i + 1]; t++)
            {
                int id = tokens[t];
                mask[id >> 6] |= 1UL << (id & 63);
            }

            i++;
        }

        return mask;
    }

    private int SlowStep(int config, byte b)
    {
        lock (_lock)
        {
            int known = _rows[config][b];
            if (known != Unknown)
            {
                return known;
            }

            // The bytes no stack can take are filled on a configuration's first slow step only.
            bool fillDead = !_deadFilled[config];
            _deadFilled[config] = true;
            int result;
            if (_configStacks[config] is [int only])
            {
                result = StepSingle(only, b);

                // A single stack's step depends only on the state its rule's automaton moves to: fill every byte that
                // moves it there at once (a counted string's content bytes may span dozens of classes of a large rule),
                // and every byte its state has no edge for (most of them, met once each on the trie's first level).
                var (rule, state, _, _) = _stacks[only];
                var dfa = _grammar.Rules[rule];
                int target = dfa.Next(state, b);
                int classes = dfa.ClassCount;
                Span<sbyte> fill = classes <= 256 ? stackalloc sbyte[256] : new sbyte[classes];
                for (int c = 0; c < classes; c++)
                {
                    int classTarget = dfa.NextTable[(state * classes) + c];
                    fill[c] = (sbyte)(classTarget == target ? 1 : fillDead && classTarget < 0 ? -1 : 0);
                }

                int[] row = _rows[config];
                for (int other = 0; other < 256; other++)
                {
                    int how = fill[dfa.ClassOf[other]];
                    if (how > 0)
                    {
                        Volatile.Write(ref row[other], result);
                    }
                    else if (how < 0 && row[other] == Unknown)
                    {
                        Volatile.Write(ref row[other], Dead);
                    }
                }

                return result;
            }

            int[] stacks = _configStacks[config];
            var moved = new List<int>();
            foreach (int s in stacks)
            {
                var (rule, state, parent, _) = _stacks[s];
                int target = _grammar.Rules[rule].Next(state, b);
                if (target >= 0)
                {
                    moved.Add(InternStack(rule, target, parent));
                }
            }

            result = moved.Count == 0 ? Dead : CloseAndIntern(moved);

            // Bytes in the same class of every stack's rule move every stack alike: fill them all, so a new configuration
            // costs one step per class combination, not one locked step per byte of the trie's first level.
            int[] sameRow = _rows[config];
            for (int other = 0; other < 256; other++)
            {
                bool same = true;
                foreach (int s in stacks)
                {
                    var dfa = _grammar.Rules[_stacks[s].Rule];
                    if (dfa.ClassOf[other] != dfa.ClassOf[b])
                    {
                        same = false;
                        break;
                    }
                }

                if (same)
                {
                    Volatile.Write(ref sameRow[other], result);
                }
                else if (fillDead && sameRow[other] == Unknown && NoStackTakes(stacks, (byte)other))
                {
                    Volatile.Write(ref sameRow[other], Dead);
                }
            }

            return result;
        }
    }

    private bool NoStackTakes(int[] stacks, byte b)
    {
        foreach (int s in stacks)
        {
            var (rule, state, _, _) = _stacks[s];
            if (_grammar.Rules[rule].Next(state, b) >= 0)
            {
                return false;
            }
        }

        return true;
    }

    // The common case (no recursion or ambiguity in play): one stack, and a target state that neither calls nor ends.
    private int StepSingle(int stack, byte b)
    {
        var (rule, state, parent, _) = _stacks[stack];
        var dfa = _grammar.Rules[rule];
        int target = dfa.Next(state, b);
        if (target < 0)
        {
            return Dead;
        }

        int moved = InternStack(rule, target, parent);
        if (!dfa.Plain[target])
        {
            return CloseAndIntern([moved]);
        }

        if (!_plainConfigs.TryGetValue(moved, out int config))
        {
            config = CloseAndIntern([moved]);
            _plainConfigs.Add(moved, config);
        }

        return config;
    }

    private int InternStack(int rule, int state, int parent)
    {
        if (!_stackIds.TryGetValue((rule, state, parent), out int id))
        {
            id = _stacks.Count;
            _stacks.Add((rule, state, parent, parent < 0 ? 1 : _stacks[parent].Depth + 1));
            _stackIds.Add((rule, state, parent), id);
        }

        return id;
    }

    // Expands calls (push the callee's start on the return frame) and ends (pop to the parent) until nothing new appears;
    // keeps the stacks that can take a byte. Returns -1 when none can and the grammar cannot end here either.
    private int CloseAndIntern(List<int> seeds)
    {
        // One stack on a state that neither calls nor ends closes to itself (most steps inside a string or literal).
        if (seeds is [int one] && IsPlain(one))
        {
            return Intern([one], canEnd: false);
        }

        var visited = new HashSet<int>();
        var live = new List<int>();
        var work = new Stack<int>(seeds);
        bool canEnd = false;
        while (work.TryPop(out int s))
        {
            if (!visited.Add(s))
            {
                continue;
            }

            var (rule, state, parent, depth) = _stacks[s];
            var dfa = _grammar.Rules[rule];
            if (dfa.HasBytes[state])
            {
                live.Add(s);
            }

            if (depth < MaxStackDepth)
            {
                foreach (var (callee, returnState) in dfa.Calls[state])
                {
                    int returnStack = InternStack(rule, returnState, parent);
                    work.Push(InternStack(callee, RuleDfa.Start, returnStack));
                }
            }

            if (dfa.Accepting[state])
            {
                if (parent < 0)
                {
                    canEnd = true;
                }
                else
                {
                    work.Push(parent);
                }
            }
        }

        if (live.Count == 0 && !canEnd)
        {
            return Dead;
        }

        int[] stacks = [.. live];
        Array.Sort(stacks);
        return Intern(stacks, canEnd);
    }

    private bool IsPlain(int stack)
    {
        var (rule, state, _, _) = _stacks[stack];
        return _grammar.Rules[rule].Plain[state];
    }

    // The configuration of these live stacks (sorted), made if new.
    private int Intern(int[] stacks, bool canEnd)
    {
        var key = new ConfigKey(stacks, canEnd);
        if (_configIds.TryGetValue(key, out int id))
        {
            return id;
        }

        id = _configCount;
        if (id == _rows.Length)
        {
            Grow();
        }

        // Entry 256 holds whether the grammar may end here.
        var row = new int[257];
        Array.Fill(row, Unknown);
        row[256] = canEnd ? 1 : 0;
        _rows[id] = row;
        _configStacks.Add(stacks);
        _deadFilled.Add(false);
        _configIds.Add(key, id);
        _configCount = id + 1;
        return id;
    }

    private void Grow()
    {
        int size = _rows.Length * 2;
        var rows = new int[size][];
        Array.Copy(_rows, rows, _rows.Length);
        var masks = new ulong[size][];
        Array.Copy(_masks, masks, _masks.Length);

        // Fill before publishing, so a reader that sees the new arrays sees every existing entry.
        _masks = masks;
        _rows = rows;
    }

    private readonly struct ConfigKey(int[] stacks, bool canEnd) : IEquatable<ConfigKey>
    {
        private readonly int[] _stacks = stacks;
        private readonly bool _canEnd = canEnd;

        public bool Equals(ConfigKey other) => _canEnd == other._canEnd && _stacks.AsSpan().SequenceEqual(other._stacks);

        public override bool Equals(object? obj) => obj is ConfigKey other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.Add(_canEnd);
            foreach (int s in _stacks)
            {
                hash.Add(s);
            }

            return hash.ToHashCode();
        }
    }
}
