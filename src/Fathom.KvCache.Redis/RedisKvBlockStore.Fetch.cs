using Fathom.Engine.KvCache;
using StackExchange.Redis;

namespace Fathom.KvCache.Redis;

public sealed partial class RedisKvBlockStore
{
    /// <summary>
    /// Finds the longest contiguous run of <paramref name="blockHashes"/>, from the first, that Redis holds and that
    /// validates, and returns those blocks. Two pipelined rounds: the 96-byte headers of all candidates (finds the
    /// run and its size), then the values of the run, cut to what the skip rule says is faster than recomputing and
    /// fits in the timeout. Returns within <see cref="KvCacheOptions.FetchTimeout"/>; Redis failures give an empty
    /// result, never an exception.
    /// </summary>
    /// <remarks>
    /// A header is checked completely (model, block, signature, <paramref name="shape"/>, chunk count) before any of
    /// its payload is asked for, and every read is a <c>GETRANGE</c> bounded by the length the checked header implies:
    /// a forged or foreign value costs one 96-byte read and no allocation beyond it.
    /// </remarks>
    /// <param name="fingerprint">The model.</param>
    /// <param name="shape">What each of the model's blocks looks like; values that say otherwise are rejected.</param>
    /// <param name="blockHashes">The blocks following the local prefix hit, in order.</param>
    /// <param name="cancellationToken">The request's token; cancelling it throws <see cref="OperationCanceledException"/>.</param>
    public async Task<KvFetchResult> FetchLongestRunAsync(
        KvModelFingerprint fingerprint, KvBlockShape shape, IReadOnlyList<BlockHash> blockHashes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blockHashes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shape.PayloadBytes, nameof(shape));
        long started = _time.GetTimestamp();
        if (blockHashes.Count == 0)
        {
            return new KvFetchResult(KvFetchOutcome.Miss, [], TimeSpan.Zero);
        }

        if (!_circuit.TryAcquire())
        {
            _metrics.Skipped("circuit_open");
            return new KvFetchResult(KvFetchOutcome.SkippedCircuitOpen, [], _time.GetElapsedTime(started));
        }

        using var activity = StartActivity("kvcache.fetch");
        activity?.SetTag("fathom.kvcache.blocks_requested", blockHashes.Count);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.FetchTimeout);
        KvFetchResult result;
        try
        {
            result = await FetchAsync(fingerprint, shape, blockHashes, started, timeout.Token).ConfigureAwait(false);
            _circuit.RecordSuccess();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _circuit.Abandon();
            throw;
        }
        catch (OperationCanceledException)
        {
            _circuit.RecordFailure();
            result = new KvFetchResult(KvFetchOutcome.TimedOut, [], _time.GetElapsedTime(started));
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            _circuit.RecordFailure();
            activity?.AddException(ex);
            result = new KvFetchResult(KvFetchOutcome.Failed, [], _time.GetElapsedTime(started));
        }

        string outcome = result.Outcome switch
        {
            KvFetchOutcome.Hit => "hit",
            KvFetchOutcome.Miss => "miss",
            KvFetchOutcome.SkippedSlowerThanRecompute => "skipped",
            KvFetchOutcome.TimedOut => "timeout",
            _ => "error",
        };
        _metrics.Lookup(outcome, Math.Min(blockHashes.Count, _options.MaxBlocksPerFetch), result.Elapsed);
        if (result.Blocks.Count > 0)
        {
            _metrics.Hit(result.Blocks.Count, result.TokenCount);
        }

        activity?.SetTag("fathom.kvcache.outcome", outcome);
        activity?.SetTag("fathom.kvcache.blocks_hit", result.Blocks.Count);
        return result;
    }

    private async Task<KvFetchResult> FetchAsync(
        KvModelFingerprint fingerprint, KvBlockShape shape, IReadOnlyList<BlockHash> blockHashes, long started, CancellationToken cancellationToken)
    {
        var db = _redis.GetDatabase();
        int candidates = Math.Min(blockHashes.Count, _options.MaxBlocksPerFetch);
        var keys = new RedisKey[candidates];
        var probes = new Task<RedisValue>[candidates];
        for (int i = 0; i < candidates; i++)
        {
            keys[i] = KeyFor(fingerprint, blockHashes[i]);
            probes[i] = db.StringGetRangeAsync(keys[i], 0, KvBlockHeader.Size - 1);
        }

        await AwaitAll(probes, cancellationToken).ConfigureAwait(false);
        _rates.ObserveOverhead(_time.GetElapsedTime(started));
        var headers = new List<KvBlockHeader>(candidates);
        for (int i = 0; i < candidates; i++)
        {
            byte[]? bytes = probes[i].Result;
            if (bytes is null || bytes.Length == 0)
            {
                break;
            }

            _metrics.Read(bytes.Length);
            if (!KvBlockHeader.TryRead(bytes, fingerprint, blockHashes[i], shape, _options.ChunkBytes, _hmacKey, out var header, out var reason))
            {
                _metrics.Rejected(reason);
                break;
            }

            headers.Add(header);
        }

        if (headers.Count == 0)
        {
            return new KvFetchResult(KvFetchOutcome.Miss, [], _time.GetElapsedTime(started));
        }

        long bytesPerBlock = (long)headers.Average(h => KvBlockHeader.Size + h.PayloadLength + h.TrailerSize);
        double remaining = (_options.FetchTimeout - _time.GetElapsedTime(started)).TotalSeconds;
        var rates = _rates.Current;
        var decision = KvFetchCostModel.Decide(headers.Count, bytesPerBlock, headers[0].TokenCount, rates with { FetchOverheadSeconds = 0 }, remaining);
        if (!decision.ShouldFetch)
        {
            _metrics.Skipped(decision.LimitedByTimeout ? "timeout_budget" : "slower_than_recompute");
            return new KvFetchResult(KvFetchOutcome.SkippedSlowerThanRecompute, [], _time.GetElapsedTime(started));
        }

        long transferStarted = _time.GetTimestamp();
        var blocks = await TransferRunAsync(db, fingerprint, shape, blockHashes, keys, headers, decision.Blocks, cancellationToken).ConfigureAwait(false);
        _rates.ObserveFetch(blocks.Bytes, _time.GetElapsedTime(transferStarted));
        var outcome = blocks.Blocks.Count > 0 ? KvFetchOutcome.Hit : KvFetchOutcome.Miss;
        return new KvFetchResult(outcome, blocks.Blocks, _time.GetElapsedTime(started));
    }

    private async Task<(List<KvBlock> Blocks, long Bytes)> TransferRunAsync(
        IDatabase db, KvModelFingerprint fingerprint, KvBlockShape shape, IReadOnlyList<BlockHash> blockHashes, RedisKey[] keys,
        List<KvBlockHeader> headers, int count, CancellationToken cancellationToken)
    {
        // Each read asks for one byte more than the checked header implies, so a value grown since the probe is
        // seen (and rejected) without ever being read whole.
        int chunkBytes = _options.ChunkBytes;
        var manifests = new Task<RedisValue>[count];
        var chunks = new Task<RedisValue>[count][];
        var all = new List<Task>();
        for (int i = 0; i < count; i++)
        {
            var header = headers[i];
            manifests[i] = db.StringGetRangeAsync(keys[i], 0, header.ManifestLength);
            all.Add(manifests[i]);
            chunks[i] = new Task<RedisValue>[header.ChunkCount];
            for (int c = 0; c < chunks[i].Length; c++)
            {
                chunks[i][c] = db.StringGetRangeAsync(ChunkKey(keys[i], c), 0, KvBlockCodec.ChunkLength(header.PayloadLength, chunkBytes, c));
                all.Add(chunks[i][c]);
            }
        }

        await AwaitAll(all, cancellationToken).ConfigureAwait(false);
        var blocks = new List<KvBlock>(count);
        long bytes = 0;
        for (int i = 0; i < count; i++)
        {
            byte[]? manifest = manifests[i].Result;
            if (manifest is null || manifest.Length == 0)
            {
                break; // Expired or evicted since the probe.
            }

            var chunkValues = chunks[i].Select(t => (byte[]?)t.Result).ToArray();
            bytes += manifest.LongLength + chunkValues.Sum(c => c?.LongLength ?? 0);
            if (!KvBlockCodec.TryDecode(fingerprint, blockHashes[i], shape, chunkBytes, manifest, chunkValues, _hmacKey, out var block, out var reason))
            {
                _metrics.Rejected(reason);
                break;
            }

            blocks.Add(block!);
        }

        _metrics.Read(bytes);
        return (blocks, bytes);
    }

    private static RedisKey ChunkKey(RedisKey key, int chunk) => key.Append($":{chunk}");

    /// <summary>Waits for pipelined commands, giving up at the token; the abandoned ones are observed later.</summary>
    private static async Task AwaitAll(IEnumerable<Task> tasks, CancellationToken cancellationToken)
    {
        var all = Task.WhenAll(tasks);
        try
        {
            await all.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Observe(all);
            throw;
        }
    }
}
