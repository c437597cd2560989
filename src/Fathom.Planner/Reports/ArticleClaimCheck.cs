namespace Fathom.Planner.Reports;

/// <summary>One claim of the widely copied DeepSeek-70B hardware article, beside the planner's answer.</summary>
/// <param name="Claim">The article's claim, quoted.</param>
/// <param name="Planner">What the planner computes for the same question.</param>
/// <param name="Verdict">agrees, overstated, wrong, or right per user / wrong in aggregate.</param>
/// <param name="Reason">Why, in numbers.</param>
public sealed record ArticleClaimCheck(string Claim, string Planner, string Verdict, string Reason);
