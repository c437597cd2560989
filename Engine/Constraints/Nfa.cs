namespace Fathom.Engine.Constraints;

/// <summary>
/// One rule's nondeterministic automaton: byte edges, epsilon edges and call edges (match another rule, then go on).
/// Only recursive references become calls; everything else is inlined, so most of a schema is one flat automaton.
/// </summary>
internal sealed class Nfa
{
    public List<List<int>> Epsilon { get; } = [];

    public List<List<(ByteSet Set, int To)>> Edges { get; } = [];

    public List<List<(int Rule, int To)>> Calls { get; } = [];

    public int Start { get; set; }

    public int Final { get; set; }

    public int Count => Epsilon.Count;

    public int NewState()
    {
        Epsilon.Add([]);
        Edges.Add([]);
        Calls.Add([]);
        return Epsilon.Count - 1;
    }
}
