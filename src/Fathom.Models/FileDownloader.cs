using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace Fathom.Models;

/// <summary>
/// Downloads one file into <c>NAME.partial</c> — in several HTTP ranges at once when it is large — records how far
/// each range got in <c>NAME.partial.json</c> so that a later pull resumes with <c>Range</c> requests, retries
/// network failures, checks the hash, and only then renames the file to its final name (that rename is what marks
/// it complete). A hash mismatch deletes the partial file: a wrong byte cannot be located, so the next pull starts over.
/// </summary>
internal sealed class FileDownloader(HubHttp http, ModelStoreOptions options)
{
    private const int BufferSize = 1 << 20;
    private const long MinimumRangeBytes = 1 << 20;
    private static readonly TimeSpan StateInterval = TimeSpan.FromSeconds(2);

    /// <summary>Bytes of <paramref name="item"/> already on disk from an earlier pull that this one will keep.</summary>
    public static long ResumableBytes(DownloadItem item) => LoadState(item)?.Ranges.Sum(r => r.Done) ?? 0;

    public async Task DownloadAsync(DownloadItem item, PullTracker tracker, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(item.FinalPath)!);
        var state = LoadState(item) ?? NewState(item);
        var ranges = state.Ranges.Select(r => new RangeProgress(r.Start, r.End, r.Done)).ToArray();
        using (var handle = File.OpenHandle(item.PartialPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read))
        {
            if (ranges.Length == 1)
            {
                // One range writes in order: the file is exactly its done bytes (drop anything written after the last record).
                RandomAccess.SetLength(handle, ranges[0].Start + ranges[0].Done);
            }

            var writer = new StateWriter(item, state, ranges);
            writer.Save();
            using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            try
            {
                await Task.WhenAll(ranges.Select(r => DownloadRangeAsync(item, handle, r, tracker, writer, failed))).ConfigureAwait(false);
            }
            finally
            {
                writer.Save();
            }
        }

        tracker.SetStage(PullStage.Verifying);
        await VerifyAsync(item, cancellationToken).ConfigureAwait(false);
        File.Move(item.PartialPath, item.FinalPath, overwrite: true);
        File.Delete(item.StatePath);
    }

    private async Task DownloadRangeAsync(
        DownloadItem item, SafeFileHandle handle, RangeProgress range, PullTracker tracker, StateWriter writer, CancellationTokenSource failed)
    {
        int failures = 0;
        try
        {
            while (!range.IsComplete)
            {
                long before = range.Done;
                try
                {
                    await DownloadOnceAsync(item, handle, range, tracker, writer, failed.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (IsTransient(e) && !failed.IsCancellationRequested)
                {
                    failures = range.Done > before ? 1 : failures + 1;
                    writer.Save();
                    if (failures > options.MaxRetries)
                    {
                        throw new ModelDownloadException(
                            $"downloading {item.Name} failed ({e.Message}); {writer.DoneBytes:N0} of {Math.Max(item.Size, 0):N0} bytes are kept: pull again to resume", e);
                    }

                    var delay = TimeSpan.FromTicks(Math.Min(options.RetryDelay.Ticks << Math.Min(failures - 1, 16), TimeSpan.FromSeconds(30).Ticks));
                    await Task.Delay(delay, failed.Token).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            // One range failing ends the others: their bytes so far are recorded for the next pull.
            await failed.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task DownloadOnceAsync(
        DownloadItem item, SafeFileHandle handle, RangeProgress range, PullTracker tracker, StateWriter writer, CancellationToken cancellationToken)
    {
        long from = range.Start + range.Done;
        bool whole = from == 0 && (range.End == item.Size || item.Size < 0);
        RangeHeaderValue? header = whole ? null : new RangeHeaderValue(from, item.Size < 0 ? null : range.End - 1);
        var (response, first) = await http.SendAsync(item.Url, HttpMethod.Get, header, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            http.ThrowIfFailed(response, $"file {item.Name}", item.Owner);
            CheckLinkedEtag(item, first);
            long skip = 0;
            if (header is not null && response.StatusCode == HttpStatusCode.OK)
            {
                // The server ignored Range: read past the bytes already on disk.
                skip = from;
            }
            else if (response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From is { } start && start != from)
            {
                throw new HttpRequestException($"asked for bytes from {from} of {item.Name} and got them from {start}");
            }

            using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            try
            {
                while (!range.IsComplete)
                {
                    int want = (int)Math.Min(buffer.Length, skip > 0 ? skip : range.Remaining);
                    int read = await ReadAsync(body, buffer.AsMemory(0, want), item, cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        if (item.Size < 0 && skip == 0)
                        {
                            range.MarkEndReached();
                            break;
                        }

                        throw new IOException($"the connection closed {range.Remaining:N0} bytes before the end of {item.Name}'s range");
                    }

                    if (skip > 0)
                    {
                        skip -= read;
                        continue;
                    }

                    Write(item, handle, buffer.AsSpan(0, read), range.Start + range.Done);
                    range.Advance(read);
                    tracker.Add(read);
                    writer.SaveIfDue();
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private async Task<int> ReadAsync(Stream body, Memory<byte> buffer, DownloadItem item, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ReadTimeout);
        try
        {
            return await body.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no bytes of {item.Name} for {options.ReadTimeout.TotalSeconds:0} s", e);
        }
    }

    private static void Write(DownloadItem item, SafeFileHandle handle, ReadOnlySpan<byte> bytes, long offset)
    {
        try
        {
            RandomAccess.Write(handle, bytes, offset);
        }
        catch (IOException e)
        {
            // A local write failing is not a network error: retrying would fail the same way.
            throw new ModelPullException($"writing {item.PartialPath} failed: {e.Message}", e);
        }
    }

    private static void CheckLinkedEtag(DownloadItem item, HttpResponseHeaders first)
    {
        if (item.Sha256 is null || !first.TryGetValues("X-Linked-Etag", out var values))
        {
            return;
        }

        string linked = values.First().Replace("W/", "", StringComparison.Ordinal).Trim('"').ToLowerInvariant();
        if (linked.Length == 64 && linked != item.Sha256)
        {
            throw new ModelPullException($"{item.Name} changed on the hub during the pull (its ETag is now {linked}): pull again");
        }
    }

    private static async Task VerifyAsync(DownloadItem item, CancellationToken cancellationToken)
    {
        var (expected, actual, kind) = item.Sha256 is { } sha
            ? (sha, await FileHashes.Sha256Async(item.PartialPath, cancellationToken).ConfigureAwait(false), "SHA-256")
            : item.GitBlobId is { } blob
                ? (blob, await FileHashes.GitBlobIdAsync(item.PartialPath, cancellationToken).ConfigureAwait(false), "git blob id")
                : (null, null, null);
        long length = new FileInfo(item.PartialPath).Length;
        if (item.Size >= 0 && length != item.Size)
        {
            Discard(item);
            throw new ChecksumMismatchException($"{item.Name} has {length:N0} bytes, not {item.Size:N0}; the download was discarded: pull again");
        }

        if (expected is not null && !string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
        {
            Discard(item);
            throw new ChecksumMismatchException(
                $"{item.Name} is corrupt: its {kind} is {actual}, the hub publishes {expected}; the download was discarded and not marked complete: pull again");
        }
    }

    private static void Discard(DownloadItem item)
    {
        File.Delete(item.PartialPath);
        File.Delete(item.StatePath);
    }

    private static bool IsTransient(Exception e) => e is HttpRequestException or TimeoutException
        || (e is IOException && e is not ModelPullException);

    private DownloadState NewState(DownloadItem item)
    {
        File.Delete(item.PartialPath);
        if (item.Size < 0 || item.Size < options.ParallelThresholdBytes || options.ParallelRanges <= 1)
        {
            return new DownloadState(item.Sha256, item.Size, [new DownloadRangeState(0, item.Size < 0 ? long.MaxValue : item.Size, 0)]);
        }

        long count = Math.Clamp(item.Size / MinimumRangeBytes, 1, options.ParallelRanges);
        long length = (item.Size + count - 1) / count;
        var ranges = new List<DownloadRangeState>();
        for (long start = 0; start < item.Size; start += length)
        {
            ranges.Add(new DownloadRangeState(start, Math.Min(start + length, item.Size), 0));
        }

        return new DownloadState(item.Sha256, item.Size, ranges);
    }

    /// <summary>The recorded state when it belongs to this very file (same size and hash) and its partial file is there.</summary>
    private static DownloadState? LoadState(DownloadItem item)
    {
        if (!File.Exists(item.StatePath) || !File.Exists(item.PartialPath))
        {
            return null;
        }

        try
        {
            var state = JsonSerializer.Deserialize(File.ReadAllText(item.StatePath), StoreJsonContext.Default.DownloadState);
            long length = new FileInfo(item.PartialPath).Length;
            return state is not null && state.Size == item.Size && state.Sha256 == item.Sha256 && item.Size >= 0
                && state.Ranges.All(r => r.Done >= 0 && r.Start + r.Done <= r.End && r.Start + r.Done <= length)
                ? state : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>How far one range got; written by its own task only.</summary>
    private sealed class RangeProgress(long start, long end, long done)
    {
        private long _done = done;
        private long _end = end;

        public long Start { get; } = start;

        public long End => Interlocked.Read(ref _end);

        public long Done => Interlocked.Read(ref _done);

        public long Remaining => End - Start - Done;

        public bool IsComplete => Remaining <= 0;

        public void Advance(int bytes) => Interlocked.Add(ref _done, bytes);

        public void MarkEndReached() => Interlocked.Exchange(ref _end, Start + Done);
    }

    /// <summary>Writes the ranges' progress to the state file, at most every two seconds unless asked to now.</summary>
    private sealed class StateWriter(DownloadItem item, DownloadState state, RangeProgress[] ranges)
    {
        private readonly Lock _gate = new();
        private DateTime _last = DateTime.MinValue;

        public long DoneBytes => ranges.Sum(r => r.Done);

        public void SaveIfDue()
        {
            if (DateTime.UtcNow - _last >= StateInterval)
            {
                Save();
            }
        }

        public void Save()
        {
            lock (_gate)
            {
                _last = DateTime.UtcNow;
                var snapshot = state with { Ranges = [.. ranges.Select(r => new DownloadRangeState(r.Start, r.End, r.Done))] };
                string temp = item.StatePath + ".tmp";
                File.WriteAllText(temp, JsonSerializer.Serialize(snapshot, StoreJsonContext.Default.DownloadState));
                File.Move(temp, item.StatePath, overwrite: true);
            }
        }
    }
}
