using Fathom.Api.Security;

namespace Fathom.Api.Tests.Gateway.Units;

public sealed class TokenEstimateTests
{
    [Fact]
    public void Max_tokens_is_multiplied_by_n_and_added_to_the_prompt() =>
        Assert.Equal(10 + 4096 * 3, TokenEstimate.Charge(10, 4096, 3, contextLength: 512));

    [Fact]
    public void Without_max_tokens_each_completion_may_fill_the_rest_of_the_context()
    {
        Assert.Equal(2048, TokenEstimate.Charge(48, null, 1, 2048));
        Assert.Equal(48 + 2000 * 2, TokenEstimate.Charge(48, null, 2, 2048));
    }

    [Fact]
    public void Without_max_tokens_or_a_known_context_the_charge_saturates() =>
        Assert.Equal(int.MaxValue, TokenEstimate.Charge(48, null, 1, null));

    [Fact]
    public void Huge_products_saturate_instead_of_overflowing() =>
        Assert.Equal(int.MaxValue, TokenEstimate.Charge(5, int.MaxValue, 128, null));
}
