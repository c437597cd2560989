using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace Fathom.Engine.Constraints;

/// <summary>
/// A byte-level grammar the output must match: built from a JSON Schema, from the JSON shapes, or by combining
/// literals, sequences, choices and repetitions. Immutable and thread-safe: one instance may serve any number of
/// sequences (each walks it with its own <see cref="GrammarMatcher"/>), and what it learns about a vocabulary's tokens
/// is cached inside it and shared.
/// </summary>
public sealed class Grammar
{
    private readonly Lazy<CompiledGrammar> _compiled;
    private readonly ConcurrentDictionary<ConstraintVocabulary, TokenTables> _tables = new();

    internal Grammar(GrammarNode root)
    {
        Root = root;
        _compiled = new Lazy<CompiledGrammar>(() => CompiledGrammar.Compile(Root), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    internal GrammarNode Root { get; }

    internal CompiledGrammar Compiled => _compiled.Value;

    /// <summary>
    /// Optional JSON whitespace: nothing, one space, or up to two line breaks and then up to 20 spaces or tabs (at most
    /// <see cref="MaxWhitespace"/> bytes), so a model cannot loop on whitespace. Every JSON grammar's whitespace slot is this.
    /// </summary>
    public static Grammar Whitespace { get; } = new(JsonGrammars.Whitespace);

    /// <summary>The most whitespace bytes <see cref="Whitespace"/> (and every JSON grammar's whitespace slot) allows.</summary>
    public const int MaxWhitespace = JsonGrammars.MaxWhitespace;

    /// <summary>
    /// Compiles the subset of JSON Schema that OpenAI's strict structured outputs accepts (see docs/constraints.md).
    /// The schema is compiled eagerly, so a schema that is too large or uses an unsupported keyword fails here.
    /// </summary>
    /// <exception cref="UnsupportedSchemaException">The schema uses a keyword, or a keyword value, that is not supported.</exception>
    public static Grammar FromJsonSchema(JsonElement schema)
    {
        var grammar = new Grammar(JsonSchemaCompiler.Compile(schema));
        try
        {
            _ = grammar.Compiled;
        }
        catch (GrammarTooLargeException e)
        {
            throw new UnsupportedSchemaException("schema", "", e.Message);
        }

        return grammar;
    }

    private static readonly Grammar SharedAnyObject = new(JsonGrammars.AnyObject);
    private static readonly Grammar SharedAnyValue = new(JsonGrammars.AnyValue);

    /// <summary>Any JSON object (OpenAI's <c>response_format: json_object</c>). One shared instance, so its caches serve every request.</summary>
    public static Grammar AnyJsonObject() => SharedAnyObject;

    /// <summary>Any JSON value. One shared instance, so its caches serve every request.</summary>
    public static Grammar AnyJson() => SharedAnyValue;

    /// <summary>Exactly <paramref name="text"/> (its UTF-8 bytes).</summary>
    public static Grammar Literal(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new(new BytesNode(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>The parts one after another.</summary>
    public static Grammar Sequence(params Grammar[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        return new(new SequenceNode([.. parts.Select(p => p.Root)]));
    }

    /// <summary>Any one of the alternatives (at least one).</summary>
    public static Grammar Choice(params Grammar[] alternatives)
    {
        ArgumentNullException.ThrowIfNull(alternatives);
        if (alternatives.Length == 0)
        {
            throw new ArgumentException("A choice needs at least one alternative.", nameof(alternatives));
        }

        return new(new ChoiceNode([.. alternatives.Select(p => p.Root)]));
    }

    /// <summary><paramref name="item"/> between <paramref name="min"/> and <paramref name="max"/> times (unbounded when null), with an optional separator between items.</summary>
    public static Grammar Repeat(Grammar item, int min, int? max, Grammar? separator = null)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentOutOfRangeException.ThrowIfNegative(min);
        if (max is { } m && m < min)
        {
            throw new ArgumentOutOfRangeException(nameof(max), "max must be at least min.");
        }

        return new(new RepeatNode(item.Root, min, max, separator?.Root));
    }

    // Recursive grammars (any JSON, $ref trees) meet new stacks as long as they serve new nestings: past a size the
    // tables are replaced, so a long-running server's memory stays bounded (matchers keep the tables they started on).
    internal TokenTables TablesFor(ConstraintVocabulary vocabulary)
    {
        var tables = _tables.GetOrAdd(vocabulary, static (v, g) => new TokenTables(g.Compiled, v), this);
        if (tables.ConfigCount > TokenTables.MaxConfigurations)
        {
            var fresh = new TokenTables(Compiled, vocabulary);
            _tables.TryUpdate(vocabulary, fresh, tables);
            return fresh;
        }

        return tables;
    }
}
