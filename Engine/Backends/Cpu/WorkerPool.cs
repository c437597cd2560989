namespace Fathom.Engine.Backends.Cpu;

/// <summary>
/// A fixed set of worker threads that run the items of one parallel loop at a time, the calling thread taking
/// part. Workers spin briefly between loops (a decode step issues hundreds of short loops, and waking a
/// blocked thread costs more than most of them) and then sleep.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private const int SpinIterations = 20_000;

    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private Action<int>? _body;
    private int _itemCount;
    private int _nextItem;
    private int _busyWorkers;
    private long _generation;
    private bool _stopping;
    private Exception? _failure;

    public WorkerPool(int threadCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threadCount);
        ThreadCount = threadCount;
        _threads = new Thread[threadCount - 1];
        for (var i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"fathom-cpu-{i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads that run a loop, the caller included.</summary>
    public int ThreadCount { get; }

    /// <summary>Runs <paramref name="body"/> for every item in [0, <paramref name="itemCount"/>), returning when all are done.</summary>
    public void Run(int itemCount, Action<int> body)
    {
        if (itemCount <= 0)
        {
            return;
        }

        if (_threads.Length == 0 || itemCount == 1)
        {
            for (var i = 0; i < itemCount; i++)
            {
                body(i);
            }

            return;
        }

        _body = body;
        _itemCount = itemCount;
        _nextItem = -1;
        _failure = null;
        Volatile.Write(ref _busyWorkers, _threads.Length);
        lock (_gate)
        {
            _generation++;
            Monitor.PulseAll(_gate);
        }

        RunItems();
        var spinner = default(SpinWait);
        while (Volatile.Read(ref _busyWorkers) != 0)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }

        _body = null;
        if (_failure is { } failure)
        {
            throw new AggregateException(failure);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            _generation++;
            Monitor.PulseAll(_gate);
        }

        foreach (var t in _threads)
        {
            t.Join();
        }
    }

    private void RunItems()
    {
        var body = _body!;
        try
        {
            int i;
            while ((i = Interlocked.Increment(ref _nextItem)) < _itemCount)
            {
                body(i);
            }
        }
        catch (Exception e)
        {
            _failure = e;
            Volatile.Write(ref _nextItem, int.MaxValue / 2);
        }
    }

    private void WorkerLoop()
    {
        long seen = 0;
        while (true)
        {
            var spins = 0;
            while (Volatile.Read(ref _generation) == seen)
            {
                if (++spins < SpinIterations)
                {
                    Thread.SpinWait(8);
                    continue;
                }

                lock (_gate)
                {
                    while (_generation == seen)
                    {
                        Monitor.Wait(_gate);
                    }
                }
            }

            seen = Volatile.Read(ref _generation);
            if (Volatile.Read(ref _stopping))
            {
                return;
            }

            RunItems();
            Interlocked.Decrement(ref _busyWorkers);
        }
    }
}
