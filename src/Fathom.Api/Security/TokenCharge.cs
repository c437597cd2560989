namespace Fathom.Api.Security;

/// <summary>
/// A request's token charge, set as an <see cref="HttpContext"/> feature by the limiter that took it (shared or
/// local) and settled once by <see cref="Gateway.UsageSettlementMiddleware"/> when the response has ended: unused
/// tokens go back to the key's window, tokens used beyond the charge are added to it.
/// </summary>
internal sealed class TokenCharge(int charged, Func<int, Task> adjust)
{
    private int _settled;

    /// <summary>Tokens taken up front.</summary>
    public int Charged { get; } = charged;

    /// <summary>Tokens actually used, once settled.</summary>
    public int? Actual { get; private set; }

    /// <summary>Moves the key's window by <paramref name="actual"/> − <see cref="Charged"/>; only the first call counts.</summary>
    public Task SettleAsync(int actual)
    {
        if (Interlocked.Exchange(ref _settled, 1) == 1)
        {
            return Task.CompletedTask;
        }

        Actual = actual;
        return actual == Charged ? Task.CompletedTask : adjust(actual - Charged);
    }
}
