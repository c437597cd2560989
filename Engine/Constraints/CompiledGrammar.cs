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
        return new CompiledGrammar([.. automata.Select(nfa => RuleDfa.Build(nfa, ref budget))]);
    }
}
