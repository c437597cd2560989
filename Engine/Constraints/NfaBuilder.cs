namespace Fathom.Engine.Constraints;

/// <summary>
/// Compiles a <see cref="GrammarNode"/> tree into one <see cref="Nfa"/> per rule (Thompson construction). A rule reference is
/// inlined unless it is already being inlined further out (recursion): then it becomes a call edge to that rule's own automaton.
/// </summary>
internal sealed class NfaBuilder
{
    /// <summary>Total NFA states over all rules before the grammar is refused as too large.</summary>
    public const int MaxStates = 1 << 21;

    private readonly Dictionary<RuleNode, int> _ruleIds = [];
    private readonly List<RuleNode?> _ruleNodes = [];
    private readonly HashSet<RuleNode> _inlining = [];
    private int _total;
    private Nfa _nfa = null!;

    public static List<Nfa> Build(GrammarNode root)
    {
        var builder = new NfaBuilder();
        var automata = new List<Nfa> { builder.BuildRule(root, null) };
        for (int rule = 1; rule < builder._ruleNodes.Count; rule++)
        {
            var node = builder._ruleNodes[rule]!;
            automata.Add(builder.BuildRule(node.Body ?? throw new InvalidOperationException($"Rule '{node.Name}' has no body."), node));
        }

        return automata;
    }

    private Nfa BuildRule(GrammarNode body, RuleNode? self)
    {
        _nfa = new Nfa();
        if (self is not null)
        {
            _inlining.Add(self);
        }

        _nfa.Start = _nfa.NewState();
        _nfa.Final = Emit(body, _nfa.Start);
        if (self is not null)
        {
            _inlining.Remove(self);
        }

        return _nfa;
    }

    private int RuleId(RuleNode node)
    {
        if (!_ruleIds.TryGetValue(node, out int id))
        {
            if (_ruleNodes.Count == 0)
            {
                _ruleNodes.Add(null); // rule 0 is the root
            }

            id = _ruleNodes.Count;
            _ruleNodes.Add(node);
            _ruleIds.Add(node, id);
        }

        return id;
    }

    private int NewState()
    {
        if (++_total > MaxStates)
        {
            throw new GrammarTooLargeException($"the grammar's automaton would exceed {MaxStates} states (reduce maxItems/maxLength or the schema's size)");
        }

        return _nfa.NewState();
    }

    private void Eps(int from, int to) => _nfa.Epsilon[from].Add(to);

    private int Emit(GrammarNode node, int start)
    {
        switch (node)
        {
            case BytesNode bytes:
            {
                int current = start;
                foreach (byte b in bytes.Bytes)
                {
                    int next = NewState();
                    _nfa.Edges[current].Add((ByteSet.Of(b), next));
                    current = next;
                }

                return current;
            }

            case ByteSetNode set:
            {
                int next = NewState();
                _nfa.Edges[start].Add((set.Set, next));
                return next;
            }

            case SequenceNode sequence:
            {
                int current = start;
                foreach (var part in sequence.Parts)
                {
                    current = Emit(part, current);
                }

                return current;
            }

            case ChoiceNode choice:
            {
                int end = NewState();
                foreach (var alternative in choice.Alternatives)
                {
                    int s = NewState();
                    Eps(start, s);
                    Eps(Emit(alternative, s), end);
                }

                return end;
            }

            case RepeatNode repeat:
                return EmitRepeat(repeat, start);

            case MemberListNode members:
                return EmitMembers(members, start);

            case RuleNode rule:
            {
                if (_inlining.Contains(rule))
                {
                    int end = NewState();
                    _nfa.Calls[start].Add((RuleId(rule), end));
                    return end;
                }

                _inlining.Add(rule);
                int result = Emit(rule.Body ?? throw new InvalidOperationException($"Rule '{rule.Name}' has no body."), start);
                _inlining.Remove(rule);
                return result;
            }

            default:
                throw new InvalidOperationException($"Unknown grammar node {node.GetType().Name}.");
        }
    }

    private int EmitRepeat(RepeatNode repeat, int start)
    {
        int current = start;
        for (int i = 0; i < repeat.Min; i++)
        {
            if (i > 0 && repeat.Separator is not null)
            {
                current = Emit(repeat.Separator, current);
            }

            current = Emit(repeat.Item, current);
        }

        if (repeat.Max is null)
        {
            if (repeat.Min > 0)
            {
                // More items loop back to the state after the last required one.
                int loopStart = repeat.Separator is null ? current : Emit(repeat.Separator, current);
                Eps(Emit(repeat.Item, loopStart), current);
                return current;
            }

            int before = NewState();
            Eps(start, before);
            int last = Emit(repeat.Item, before);
            Eps(repeat.Separator is null ? last : Emit(repeat.Separator, last), before);
            int end = NewState();
            Eps(start, end);
            Eps(last, end);
            return end;
        }

        int finish = NewState();
        for (int i = repeat.Min; i < repeat.Max.Value; i++)
        {
            Eps(current, finish);
            if (i > 0 && repeat.Separator is not null)
            {
                current = Emit(repeat.Separator, current);
            }

            current = Emit(repeat.Item, current);
        }

        Eps(current, finish);
        return finish;
    }

    // Two boundary states per position: "nothing written yet" and "something written" (the next member needs a separator).
    private int EmitMembers(MemberListNode list, int start)
    {
        int none = start;
        int some = NewState();
        for (int i = 0; i < list.Members.Length; i++)
        {
            int memberStart = NewState();
            Eps(none, memberStart);
            Eps(Emit(list.Separator, some), memberStart);
            int nextSome = NewState();
            Eps(Emit(list.Members[i], memberStart), nextSome);
            int nextNone = NewState();
            if (!list.Required[i])
            {
                Eps(none, nextNone);
                Eps(some, nextSome);
            }

            none = nextNone;
            some = nextSome;
        }

        int end = NewState();
        Eps(none, end);
        Eps(some, end);
        return end;
    }
}
