namespace Fathom.Engine.Constraints;

/// <summary>The grammar's rules as deterministic automata; rule 0 is the start. Immutable once built.</summary>
internal sealed class CompiledGrammar
{
    private CompiledGrammar(RuleDfa[] rules) => Rules = rules;

    public RuleDfa[] Rules { get; }

    public static CompiledGrammar Compile(GrammarNode root)
    {
        var automata = NfaBuilder.Build(root);
        int budget = RuleDfa.MaxStates;
        var rules = automata.Select(nfa => RuleDfa.Build(nfa, ref budget)).ToArray();

        // String content runs are what masks inside strings ask first: one pass here (a fraction of the subset
        // construction) rather than on the first mask of a string, which a request would wait for.
        foreach (var rule in rules)
        {
            _ = rule.RunsOf(ContentClass.JsonString);
        }

        return new CompiledGrammar(rules);
    }
}
