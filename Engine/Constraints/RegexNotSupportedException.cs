namespace Fathom.Engine.Constraints;

/// <summary>A <c>pattern</c> uses a regex feature the automaton compiler does not support (or is malformed).</summary>
internal sealed class RegexNotSupportedException(string message) : Exception(message);
