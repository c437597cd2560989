namespace Fathom.Api.Security;

/// <summary>
/// A stream's slot in the shared concurrency limit, renewed while the response runs and released when it ends.
/// Renewal is what lets the slot outlive <see cref="ApiOptions.StreamLease"/>; an instance that dies stops renewing,
/// so its slots come free after one lease instead of leaking.
/// </summary>
internal sealed class StreamLease(SharedLimits limits, string key, string leaseId) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _renewing;

    /// <summary>Starts renewing in the background.</summary>
    public void Start() => _renewing = RenewAsync(_stop.Token);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_renewing is not null)
        {
            await _renewing;
        }

        _stop.Dispose();
        limits.Release(key, leaseId);
    }

    private async Task RenewAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(limits.RenewEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await limits.RenewAsync(key, leaseId);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
