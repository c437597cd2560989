using StackExchange.Redis;

namespace Fathom.KvCache.Redis;

public sealed partial class RedisKvBlockStore
{
    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<PendingWrite>(_options.WriteBatchSize);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < _options.WriteBatchSize && reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            try
            {
                await WriteBatchAsync(batch).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // The writer must outlive any failure; the batch is counted as dropped.
            catch (Exception)
#pragma warning restore CA1031
            {
                _metrics.Dropped(batch.Count, "error");
            }
            finally
            {
                Interlocked.Add(ref _pendingWrites, -batch.Count);
                batch.Clear();
            }
        }
    }

    private async Task WriteBatchAsync(List<PendingWrite> batch)
    {
        if (!_circuit.TryAcquire())
        {
            _metrics.Dropped(batch.Count, "circuit_open");
            return;
        }

        using var activity = StartActivity("kvcache.write");
        activity?.SetTag("fathom.kvcache.blocks", batch.Count);
        var db = _redis.GetDatabase();
        var sets = new List<Task<bool>>();
        long bytes = 0;
        foreach (var write in batch)
        {
            var encoded = KvBlockCodec.Encode(write.Fingerprint, write.Block, _hmacKey, _options.ChunkBytes);
            RedisKey key = KeyFor(write.Fingerprint, write.Block.Hash);

            // Chunks first, the manifest last on the same connection: a reader that sees the manifest finds the chunks.
            for (int c = 0; c < encoded.Chunks.Length; c++)
            {
                sets.Add(db.StringSetAsync(ChunkKey(key, c), encoded.Chunks[c], _options.Ttl));
            }

            sets.Add(db.StringSetAsync(key, encoded.Manifest, _options.Ttl));
            bytes += encoded.TotalBytes;
        }

        try
        {
            await Task.WhenAll(sets).WaitAsync(_options.WriteTimeout).ConfigureAwait(false);
            _circuit.RecordSuccess();
            _metrics.Written(batch.Count, bytes);
            activity?.SetTag("fathom.kvcache.bytes", bytes);
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            Observe(Task.WhenAll(sets));
            _circuit.RecordFailure();
            _metrics.Dropped(batch.Count, "error");
            activity?.AddException(ex);
        }
    }
}
