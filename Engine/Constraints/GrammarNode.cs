namespace Fathom.Engine.Constraints;

/// <summary>The grammar's syntax tree: what <see cref="Grammar"/> wraps and <see cref="NfaBuilder"/> compiles.</summary>
internal abstract class GrammarNode;

/// <summary>Exactly these bytes.</summary>
internal sealed class BytesNode(byte[] bytes) : GrammarNode
{
    public byte[] Bytes { get; } = bytes;
}

/// <summary>One byte from a set.</summary>
internal sealed class ByteSetNode(ByteSet set) : GrammarNode
{
    public ByteSet Set { get; } = set;
}

/// <summary>The parts one after another.</summary>
internal sealed class SequenceNode(GrammarNode[] parts) : GrammarNode
{
    public GrammarNode[] Parts { get; } = parts;
}

/// <summary>Any one of the alternatives.</summary>
internal sealed class ChoiceNode(GrammarNode[] alternatives) : GrammarNode
{
    public GrammarNode[] Alternatives { get; } = alternatives;
}

/// <summary><see cref="Item"/> between <see cref="Min"/> and <see cref="Max"/> times (unbounded when null), separated by <see cref="Separator"/>.</summary>
internal sealed class RepeatNode(GrammarNode item, int min, int? max, GrammarNode? separator) : GrammarNode
{
    public GrammarNode Item { get; } = item;

    public int Min { get; } = min;

    public int? Max { get; } = max;

    public GrammarNode? Separator { get; } = separator;
}

/// <summary>
/// A named rule whose body is bound after creation, so that a rule can refer to itself ($ref recursion, nested JSON values).
/// The body is set once, while the grammar is being built, and never changes afterwards.
/// </summary>
internal sealed class RuleNode(string name) : GrammarNode
{
    public string Name { get; } = name;

    public GrammarNode? Body { get; set; }
}

/// <summary>
/// A JSON object's members in a fixed order: required ones always, optional ones may be left out, with
/// <see cref="Separator"/> between the members present (so no leading or trailing comma whichever are omitted).
/// </summary>
internal sealed class MemberListNode(GrammarNode[] members, bool[] required, GrammarNode separator) : GrammarNode
{
    public GrammarNode[] Members { get; } = members;

    public bool[] Required { get; } = required;

    public GrammarNode Separator { get; } = separator;
}
