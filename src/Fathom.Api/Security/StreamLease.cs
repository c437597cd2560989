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

    /// <summary>
    /// Stops renewing and frees the slot. The response does not wait: the release follows any renewal still in
    /// flight, so a late renewal cannot re-extend a lease after it was released.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _ = ReleaseAfterRenewalAsync();
        return ValueTask.CompletedTask;
    }

    private async Task ReleaseAfterRenewalAsync()
    {
        if (_renewing is not null)
        {
            await _renewing; // never faults: RenewAsync ends on cancellation and shutdown alike
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
        catch (ObjectDisposedException)
        {
            // The instance is shutting down and its Redis connection is gone; the lease lapses on its own.
        }
    }
}
