namespace Fathom.Engine.Constraints;

/// <summary>The grammar's automaton would exceed the size limit (e.g. a huge maxItems over a large item).</summary>
internal sealed class GrammarTooLargeException(string message) : Exception(message);
