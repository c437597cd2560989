using System.Text;

namespace Fathom.Engine.Constraints;

/// <summary>Short builders for grammar nodes, so the grammars read like the rules they encode.</summary>
internal static class G
{
    public static GrammarNode Lit(string text) => new BytesNode(Encoding.UTF8.GetBytes(text));

    public static GrammarNode Set(ByteSet set) => new ByteSetNode(set);

    public static GrammarNode Set(int low, int high) => new ByteSetNode(ByteSet.Range(low, high));

    public static GrammarNode Chars(string asciiChars) => new ByteSetNode(ByteSet.Of(asciiChars));

    public static GrammarNode Seq(params GrammarNode[] parts) => parts.Length == 1 ? parts[0] : new SequenceNode(parts);

    public static GrammarNode Alt(params GrammarNode[] alternatives) => alternatives.Length == 1 ? alternatives[0] : new ChoiceNode(alternatives);

    public static GrammarNode Rep(GrammarNode item, int min, int? max, GrammarNode? separator = null) => new RepeatNode(item, min, max, separator);

    public static GrammarNode Opt(GrammarNode item) => new RepeatNode(item, 0, 1, null);

    public static GrammarNode Empty { get; } = new SequenceNode([]);

    public static GrammarNode Digit { get; } = Set('0', '9');

    public static GrammarNode Digits(int count) => Rep(Digit, count, count);
}
