using System.Text.RegularExpressions;
using Fathom.Planner.Hardware;

namespace Fathom.Planner.Tests.Hardware;

public sealed partial class CatalogSourcesTests
{
    [Fact]
    public void Every_instance_carries_its_source_its_page_and_a_date()
    {
        Assert.NotEmpty(HardwareCatalog.Default.Instances);
        foreach (var instance in HardwareCatalog.Default.Instances)
        {
            Assert.False(string.IsNullOrWhiteSpace(instance.Source), instance.Id);
            Assert.Matches(YearMonth(), instance.Date);
            Assert.True(Uri.TryCreate(instance.SourceUrl, UriKind.Absolute, out var url) && url.Scheme == "https", $"{instance.Id}: source_url '{instance.SourceUrl}'");
        }
    }

    [Fact]
    public void Every_GPU_carries_its_source_and_a_date_and_any_page_is_https()
    {
        foreach (var gpu in HardwareCatalog.Default.Gpus)
        {
            Assert.False(string.IsNullOrWhiteSpace(gpu.Source), gpu.Id);
            Assert.Matches(YearMonth(), gpu.Date);
            Assert.True(gpu.SourceUrl is null || (Uri.TryCreate(gpu.SourceUrl, UriKind.Absolute, out var url) && url.Scheme == "https"), $"{gpu.Id}: source_url '{gpu.SourceUrl}'");
        }

        // Only the H20 has no vendor page (its figures come from vendor listings, as its source says).
        Assert.Equal(["h20"], HardwareCatalog.Default.Gpus.Where(g => g.SourceUrl is null).Select(g => g.Id));
    }

    [GeneratedRegex(@"^\d{4}-\d{2}$")]
    private static partial Regex YearMonth();
}
