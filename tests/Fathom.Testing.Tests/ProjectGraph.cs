using System.Xml.Linq;

namespace Fathom.Testing.Tests;

/// <summary>
/// The repository's projects as their .csproj files declare them: each project's <c>ProjectReference</c>s (by
/// project name) and <c>PackageReference</c>s, read from the files, not from a build.
/// </summary>
internal sealed class ProjectGraph
{
    private readonly Dictionary<string, Node> _projects;

    private ProjectGraph(Dictionary<string, Node> projects) => _projects = projects;

    /// <summary>Every project name found.</summary>
    public IReadOnlyCollection<string> Projects => _projects.Keys;

    /// <summary>Reads every .csproj under <paramref name="root"/> (build output folders skipped).</summary>
    public static ProjectGraph Read(string root)
    {
        var files = Directory.EnumerateFiles(root, "*.csproj", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or ".git"));
        var projects = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var xml = XDocument.Load(file);
            var dir = Path.GetDirectoryName(file)!;
            var references = xml.Descendants("ProjectReference")
                .Select(e => Path.GetFileNameWithoutExtension(Path.GetFullPath(Path.Combine(dir, e.Attribute("Include")!.Value.Replace('\\', '/')))))
                .ToList();
            var packages = xml.Descendants("PackageReference").Select(e => e.Attribute("Include")?.Value).OfType<string>().ToList();
            projects[Path.GetFileNameWithoutExtension(file)] = new Node(references, packages);
        }

        return new ProjectGraph(projects);
    }

    /// <summary>The projects <paramref name="project"/> references directly.</summary>
    public IReadOnlyList<string> DirectReferences(string project) => Get(project).References;

    /// <summary>Every project reachable from <paramref name="project"/> through ProjectReferences, itself included.</summary>
    public IReadOnlySet<string> Closure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>([project]);
        while (stack.TryPop(out var next))
        {
            if (seen.Add(next) && _projects.TryGetValue(next, out var node))
            {
                foreach (var reference in node.References)
                {
                    stack.Push(reference);
                }
            }
        }

        return seen;
    }

    /// <summary>Every package referenced by <paramref name="project"/> or a project it reaches.</summary>
    public IReadOnlySet<string> PackagesReached(string project) =>
        Closure(project).Where(_projects.ContainsKey).SelectMany(p => _projects[p].Packages).ToHashSet(StringComparer.OrdinalIgnoreCase);

    private Node Get(string project) =>
        _projects.TryGetValue(project, out var node) ? node : throw new KeyNotFoundException($"No project {project}.csproj in the repository.");

    private sealed record Node(IReadOnlyList<string> References, IReadOnlyList<string> Packages);
}
