namespace Fathom.Testing.Tests;

public sealed class PrometheusTextTests
{
    private const string Exposition = """
        # HELP fathom_api_requests_total Requests.
        # TYPE fathom_api_requests_total counter
        fathom_api_requests_total{fathom_route="prefix",code="200"} 12
        fathom_api_requests_total{fathom_route="load",code="200"} 3
        fathom_api_requests_total_created 1.7e9
        fathom_kvcache_remote_circuit_open 0
        fathom_queue_depth 2.5
        """;

    [Fact]
    public void A_series_sums_over_its_label_sets()
    {
        Assert.Equal(15, PrometheusText.Value(Exposition, "fathom_api_requests_total"));
    }

    [Fact]
    public void A_label_filter_keeps_the_matching_sets()
    {
        Assert.Equal(12, PrometheusText.Value(Exposition, "fathom_api_requests_total", "fathom_route=\"prefix\""));
        Assert.Null(PrometheusText.Value(Exposition, "fathom_api_requests_total", "fathom_route=\"failover\""));
    }

    [Fact]
    public void Series_without_labels_are_read_and_a_zero_is_not_absence()
    {
        Assert.Equal(2.5, PrometheusText.Value(Exposition, "fathom_queue_depth"));
        Assert.Equal(0, PrometheusText.Value(Exposition, "fathom_kvcache_remote_circuit_open"));
    }

    [Theory]
    [InlineData("fathom_api_requests")]
    [InlineData("fathom_queue")]
    [InlineData("fathom_missing_total")]
    public void A_name_is_matched_whole_not_as_a_prefix(string series)
    {
        Assert.Null(PrometheusText.Value(Exposition, series));
    }
}
