using System.Collections.Concurrent;

namespace Fathom.Api.Security;

/// <summary>
/// This instance's tokens-per-window counters, one fixed window per key. Unlike a rate limiter's permits, a charge
/// can be adjusted after the fact (<see cref="TokenCharge"/>), and only within the window it was taken in: tokens
/// refunded after the window turned over would be budget the new window never charged.
/// </summary>
internal sealed class TokenWindows(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Window> _byKey = new();

    /// <summary>Takes <paramref name="tokens"/> (capped at <paramref name="limit"/>, so one large request can pass in an empty window).</summary>
    /// <returns>The charge, or the time until the window turns over when the budget is spent.</returns>
    public (TokenCharge? Charge, TimeSpan RetryAfter) TryTake(string key, int tokens, int limit, TimeSpan length)
    {
        var window = _byKey.GetOrAdd(key, _ => new Window());
        int cost = Math.Clamp(tokens, 1, limit);
        lock (window)
        {
            var now = time.GetUtcNow();
            if (now >= window.Start + length)
            {
                window.Start = now;
                window.Used = 0;
                window.Generation++;
            }

            if (window.Used + cost > limit)
            {
                return (null, window.Start + length - now);
            }

            window.Used += cost;
            long generation = window.Generation;
            return (new TokenCharge(cost, delta =>
            {
                lock (window)
                {
                    if (window.Generation == generation)
                    {
                        window.Used = Math.Max(0, window.Used + delta);
                    }
                }

                return Task.CompletedTask;
            }), TimeSpan.Zero);
        }
    }

    /// <summary>Tokens used in <paramref name="key"/>'s current window (for tests and diagnostics).</summary>
    public long Used(string key)
    {
        if (!_byKey.TryGetValue(key, out var window))
        {
            return 0;
        }

        lock (window)
        {
            return window.Used;
        }
    }

    private sealed class Window
    {
        public DateTimeOffset Start { get; set; } = DateTimeOffset.MinValue;

        public long Used { get; set; }

        public long Generation { get; set; }
    }
}
