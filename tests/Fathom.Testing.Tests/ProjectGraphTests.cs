namespace Fathom.Testing.Tests;

/// <summary>
/// Which project may reach which: the HTTP connector, the planner and the API stay free of the engine (and its
/// ILGPU), and the GGUF reader stands alone. Read from the .csproj files, so a new reference fails here first.
/// </summary>
public sealed class ProjectGraphTests
{
    private static readonly Lazy<ProjectGraph> Graph = new(() => ProjectGraph.Read(RepositoryRoot.Find()));

    [Theory]
    [InlineData("Fathom.Connector", "Fathom.Engine")]
    [InlineData("Fathom.Planner", "Fathom.Engine")]
    [InlineData("Fathom.Api", "Fathom.Engine")]
    [InlineData("Fathom.Models", "Fathom.Engine")]
    public void A_project_does_not_reach_a_forbidden_one_even_transitively(string project, string forbidden)
    {
        var reached = Graph.Value.Closure(project);
        Assert.True(reached.Count > 0 && Graph.Value.Projects.Contains(project), $"{project} was not found");
        Assert.DoesNotContain(forbidden, reached);
    }

    [Fact]
    public void The_HTTP_connector_brings_no_ILGPU()
    {
        Assert.DoesNotContain(Graph.Value.PackagesReached("Fathom.Connector"), p => p.StartsWith("ILGPU", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Fathom_Gguf_references_no_other_Fathom_project()
    {
        Assert.DoesNotContain(Graph.Value.DirectReferences("Fathom.Gguf"), p => p.StartsWith("Fathom.", StringComparison.Ordinal));
    }

    [Fact]
    public void Fathom_Safetensors_references_no_other_Fathom_project()
    {
        // The checkpoint format stays a leaf beside Fathom.Gguf, so the planner reads headers without the engine.
        Assert.DoesNotContain(Graph.Value.DirectReferences("Fathom.Safetensors"), p => p.StartsWith("Fathom.", StringComparison.Ordinal));
    }

    [Fact]
    public void The_graph_sees_transitive_references_and_packages()
    {
        // Embedded mode is where the engine joins the connector: through a direct reference and through the engine's ILGPU.
        Assert.Contains("Fathom.Gguf", Graph.Value.Closure("Fathom.Connector.Embedded"));
        Assert.Contains("ILGPU", Graph.Value.PackagesReached("Fathom.Connector.Embedded"));
    }
}
