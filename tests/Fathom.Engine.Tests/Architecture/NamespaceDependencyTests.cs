using Fathom.Engine.Scheduling;

namespace Fathom.Engine.Tests.Architecture;

/// <summary>
/// The engine's namespaces form layers: each may use only the ones its row allows (sub-namespaces such as
/// <c>Templates.Jinja</c> belong to their top namespace). A new arrow must be added here on purpose.
/// </summary>
public sealed class NamespaceDependencyTests
{
    private const string Root = "Fathom.Engine";

    // Who may use whom. Serving is the top: it wires models to the scheduler and turns output into chat answers.
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["Serving"] = ["Scheduling", "Model", "Templates", "Tokenization", "Sampling", "KvCache", "Backends", "Diagnostics", "Quantization", "Constraints"],
        ["Scheduling"] = ["KvCache", "Sampling", "Tokenization", "Diagnostics", "Constraints"],
        // Diagnostics sits below Scheduling (which records through it), so it must not use Scheduling or Serving.
        ["Diagnostics"] = ["Backends", "Quantization", "Sampling"],
        // Known cycle, allowed for now: the backends implement the forward pass over the model's weight and batch types,
        // and the model picks its backend. Splitting it means moving those types to a layer of their own.
        // Model and Backends take the sampler's job type: an accelerator draws tokens where the logits are.
        ["Model"] = ["Backends", "KvCache", "Quantization", "Sampling"],
        ["Backends"] = ["Model", "KvCache", "Quantization", "Sampling"],
        // The fp8 KV cache rounds with the one e4m3 codec (Quantization.Fp8E4M3), which depends on nothing.
        ["KvCache"] = ["Quantization"],
        ["Templates"] = [],
        ["Tokenization"] = [],
        ["Sampling"] = ["Constraints"],
        // Constrained decoding: grammars and token masks, built from a tokenizer's pieces.
        ["Constraints"] = ["Tokenization"],
        ["Quantization"] = [],
        [""] = [],
    };

    [Fact]
    public void Every_namespace_uses_only_the_namespaces_its_layer_allows()
    {
        var violations = Violations(typeof(EngineHost).Assembly.Location);
        Assert.True(violations.Count == 0, "Forbidden namespace references:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void The_table_is_layered_except_for_the_known_Model_Backends_cycle()
    {
        var cycles = new List<string>();
        foreach (var start in Allowed.Keys)
        {
            var stack = new Stack<(string Layer, string Path)>([(start, start)]);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (stack.TryPop(out var next))
            {
                foreach (var target in Allowed[next.Layer])
                {
                    string path = $"{next.Path} -> {target}";
                    if (target == start && path is not ("Model -> Backends -> Model" or "Backends -> Model -> Backends"))
                    {
                        cycles.Add(path);
                    }
                    else if (target != start && seen.Add(target))
                    {
                        stack.Push((target, path));
                    }
                }
            }
        }

        Assert.Empty(cycles);
    }

    [Fact]
    public void The_reader_sees_references_in_signatures_and_method_bodies()
    {
        var edges = NamespaceReferences.Read(typeof(EngineHost).Assembly.Location);
        // A constructor call in a body (EngineHostFactory → LlamaModelRunner) and a field type (EngineHost → EngineCore).
        Assert.Contains(("Fathom.Engine.Serving.EngineHostFactory", "Fathom.Engine.Serving.LlamaModelRunner"), edges);
        Assert.Contains(("Fathom.Engine.Scheduling.EngineHost", "Fathom.Engine.Scheduling.EngineCore"), edges);
        Assert.Contains(("Fathom.Engine.Serving.LlamaModelRunner", "Fathom.Engine.Model.LlamaModel"), edges);
    }

    private static List<string> Violations(string assemblyPath)
    {
        var violations = new List<string>();
        foreach (var (from, to) in NamespaceReferences.Read(assemblyPath).OrderBy(e => e.From, StringComparer.Ordinal))
        {
            if (Layer(from) is not { } source || Layer(to) is not { } target || source == target)
            {
                continue;
            }

            if (!Allowed.TryGetValue(source, out var allowed))
            {
                violations.Add($"{from}: namespace layer '{source}' has no row in the table");
            }
            else if (!allowed.Contains(target, StringComparer.Ordinal))
            {
                violations.Add($"{from} ({source}) uses {to} ({target})");
            }
        }

        return violations;
    }

    // The top namespace under Fathom.Engine ("" for Fathom.Engine itself); null for types outside the engine.
    private static string? Layer(string typeName)
    {
        int nested = typeName.IndexOf('+', StringComparison.Ordinal);
        string name = nested < 0 ? typeName : typeName[..nested];
        string ns = name[..Math.Max(0, name.LastIndexOf('.'))];
        if (ns == Root)
        {
            return "";
        }

        if (!ns.StartsWith(Root + ".", StringComparison.Ordinal))
        {
            return null;
        }

        string rest = ns[(Root.Length + 1)..];
        int dot = rest.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? rest : rest[..dot];
    }
}
