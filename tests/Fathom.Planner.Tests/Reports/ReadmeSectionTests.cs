using Fathom.Planner.Reports;
using Fathom.Testing;

namespace Fathom.Planner.Tests.Reports;

public sealed class ReadmeSectionTests
{
    [Fact]
    public void The_committed_section_is_what_the_planner_generates_now()
    {
        var path = Path.Combine(RepositoryRoot.Find(), ReadmeSection.RelativePath);
        var committed = File.ReadAllText(path);
        var generated = ReadmeSection.Generate(new HardwarePlanner());
        Assert.True(committed == generated,
            $"{ReadmeSection.RelativePath} drifted from the planner; regenerate it with: dotnet run --project src/Fathom.Cli -- plan --readme-section > {ReadmeSection.RelativePath}");
    }

    [Fact]
    public void The_readme_carries_the_generated_section_between_its_markers()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "README.md")).ReplaceLineEndings("\n");
        const string Begin = "<!-- planner:begin -->\n";
        const string End = "<!-- planner:end -->";
        var start = readme.IndexOf(Begin, StringComparison.Ordinal);
        var end = readme.IndexOf(End, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "README.md lacks the planner:begin/planner:end markers");
        var embedded = readme[(start + Begin.Length)..end];
        var generated = ReadmeSection.Generate(new HardwarePlanner()).ReplaceLineEndings("\n");
        Assert.True(embedded.TrimEnd('\n') == generated.TrimEnd('\n'),
            "README.md's planner section drifted; paste the output of `dotnet run --project src/Fathom.Cli -- plan --readme-section` between the markers");
    }

    [Fact]
    public void The_section_answers_with_minimum_recommended_and_high_throughput_rows_from_the_planner()
    {
        var planner = new HardwarePlanner();
        var text = ReadmeSection.Generate(planner);
        Assert.Contains("141,107,412,992", text);
        Assert.Contains("327,680", text);
        foreach (var (name, _, request) in ReadmeSection.Configurations)
        {
            var plan = planner.Plan(request);
            var row = text.Split('\n').Single(l => l.StartsWith($"| **{name}**", StringComparison.Ordinal));
            Assert.Contains($"{plan.Recommended.Gpus} x H100 (TP={plan.Recommended.Tp}", row);
            Assert.Contains($"| {ArticleCheck.F(plan.AggregateTokS)} |", row);
        }

        var minimum = planner.Plan(ReadmeSection.Configurations[0].Request);
        var high = planner.Plan(ReadmeSection.Configurations[2].Request);
        Assert.Equal(1, minimum.Recommended.Gpus);
        Assert.True(high.AggregateTokS > 10 * minimum.AggregateTokS);
    }
}
