using Fathom.Engine.KvCache;

namespace Fathom.KvCache.Redis.Tier;

/// <summary>
/// Fetched block payloads waiting for their request to be admitted, bounded in bytes. Prefetches add from request
/// threads; the engine loop promises (<see cref="Promise"/>) and takes (<see cref="TryTake"/>) them. A promised
/// entry is never evicted for a newer one, so what <see cref="IKvBlockTier.CountAvailable"/> counted is still here
/// when the runner loads it in the same step.
/// </summary>
internal sealed class KvStagingArea
{
    private readonly Lock _lock = new();
    private readonly Dictionary<BlockHash, LinkedListNode<Entry>> _entries = [];
    private readonly LinkedList<Entry> _order = new(); // oldest first
    private readonly long _capacityBytes;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;
    private long _bytes;

    public KvStagingArea(long capacityBytes, TimeSpan lifetime, TimeProvider time)
    {
        _capacityBytes = capacityBytes;
        _lifetime = lifetime;
        _time = time;
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    public long Bytes
    {
        get
        {
            lock (_lock)
            {
                return _bytes;
            }
        }
    }

    public bool Contains(BlockHash hash)
    {
        lock (_lock)
        {
            return _entries.ContainsKey(hash);
        }
    }

    /// <summary>
    /// Stages a run of blocks in order, making room by dropping expired, then oldest, unpromised entries. Stops at
    /// the first block that does not fit (a run is only useful from its start). Returns how many were staged.
    /// </summary>
    public int Stage(IReadOnlyList<(BlockHash Hash, ReadOnlyMemory<byte> Payload)> run)
    {
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            DropExpired(now);
            LinkedListNode<Entry>? runStart = null;
            for (int i = 0; i < run.Count; i++)
            {
                var (hash, payload) = run[i];
                if (_entries.ContainsKey(hash))
                {
                    continue;
                }

                if (!MakeRoom(payload.Length, now, runStart))
                {
                    return i;
                }

                var node = _order.AddLast(new Entry(hash, payload, now));
                runStart ??= node;
                _entries[hash] = node;
                _bytes += payload.Length;
            }

            return run.Count;
        }
    }

    /// <summary>How many of <paramref name="hashes"/>, from the first, are staged; those are held until taken or expired.</summary>
    public int Promise(ReadOnlySpan<BlockHash> hashes)
    {
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            int count = 0;
            while (count < hashes.Length && _entries.TryGetValue(hashes[count], out var node))
            {
                node.Value.PromisedAt = now;
                count++;
            }

            return count;
        }
    }

    /// <summary>Removes and returns a staged payload.</summary>
    public bool TryTake(BlockHash hash, out ReadOnlyMemory<byte> payload)
    {
        lock (_lock)
        {
            if (!_entries.Remove(hash, out var node))
            {
                payload = default;
                return false;
            }

            _order.Remove(node);
            _bytes -= node.Value.Payload.Length;
            payload = node.Value.Payload;
            return true;
        }
    }

    private bool IsHeld(Entry entry, long now) =>
        entry.PromisedAt is { } promised && _time.GetElapsedTime(promised, now) < _lifetime;

    private void DropExpired(long now)
    {
        var node = _order.First;
        while (node is not null)
        {
            var next = node.Next;
            if (_time.GetElapsedTime(node.Value.StagedAt, now) >= _lifetime && !IsHeld(node.Value, now))
            {
                Drop(node);
            }

            node = next;
        }
    }

    // Drops unheld entries older than this run (never the run's own earlier blocks) until bytes fit.
    private bool MakeRoom(long bytes, long now, LinkedListNode<Entry>? runStart)
    {
        var node = _order.First;
        while (_bytes + bytes > _capacityBytes && node is not null && node != runStart)
        {
            var next = node.Next;
            if (!IsHeld(node.Value, now))
            {
                Drop(node);
            }

            node = next;
        }

        return _bytes + bytes <= _capacityBytes;
    }

    private void Drop(LinkedListNode<Entry> node)
    {
        _order.Remove(node);
        _entries.Remove(node.Value.Hash);
        _bytes -= node.Value.Payload.Length;
    }

    private sealed class Entry(BlockHash hash, ReadOnlyMemory<byte> payload, long stagedAt)
    {
        public BlockHash Hash { get; } = hash;

        public ReadOnlyMemory<byte> Payload { get; } = payload;

        public long StagedAt { get; } = stagedAt;

        public long? PromisedAt { get; set; }
    }
}
