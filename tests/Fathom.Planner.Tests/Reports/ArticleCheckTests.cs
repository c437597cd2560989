using Fathom.Planner.Reports;

namespace Fathom.Planner.Tests.Reports;

public sealed class ArticleCheckTests
{
    private static readonly IReadOnlyList<ArticleClaimCheck> Checks = ArticleCheck.Run(new HardwarePlanner());

    [Fact]
    public void Every_quoted_claim_gets_a_row_with_a_verdict_and_a_reason()
    {
        Assert.Equal(4, Checks.Count);
        Assert.All(Checks, c =>
        {
            Assert.False(string.IsNullOrWhiteSpace(c.Planner));
            Assert.False(string.IsNullOrWhiteSpace(c.Reason));
        });
    }

    [Fact]
    public void The_verdicts_follow_the_issue_analysis()
    {
        Assert.Equal("overstated", Checks[0].Verdict);           // FP16 fits 2 x H100
        Assert.Equal("wrong", Checks[1].Verdict);                // INT8 is ~72 GB, fits one GPU, TP=6 invalid
        Assert.Contains("not a valid tensor-parallel split", Checks[1].Reason);
        Assert.Equal("wrong", Checks[2].Verdict);                // 4-bit fits one 80 GB GPU
        Assert.Contains("fit one 80 GB GPU", Checks[2].Reason);
        Assert.Equal("right per user, wrong as aggregate", Checks[3].Verdict);
    }
}
