namespace Fathom.Engine.Sampling;

/// <summary>
/// Partial selection of the k largest values (ties: lowest index first) with a size-k heap: O(V log k), no sort of
/// the whole vocabulary. Reuses its buffers; not thread-safe.
/// </summary>
internal sealed class TopKSelector
{
    private int[] _heap = []; // indices; a min-heap on (value, then higher index = smaller)

    /// <summary>Writes the indices of the <paramref name="k"/> largest <paramref name="values"/> into <paramref name="result"/>, best first; returns how many.</summary>
    public int Select(ReadOnlySpan<float> values, int k, Span<int> result)
    {
        k = Math.Min(k, values.Length);
        if (_heap.Length < k)
        {
            _heap = new int[k];
        }

        var heap = _heap.AsSpan(0, k);
        int count = 0;
        for (int i = 0; i < values.Length; i++)
        {
            if (count < k)
            {
                heap[count] = i;
                SiftUp(heap, values, count++);
            }
            else if (values[i] > values[heap[0]])
            {
                // Equal values never replace the root: earlier (lower) ids win ties.
                heap[0] = i;
                SiftDown(heap, values, 0, k);
            }
        }

        // Pop the heap into result from the back: worst first, so result ends up best first.
        for (int n = count; n > 0; n--)
        {
            result[n - 1] = heap[0];
            heap[0] = heap[n - 1];
            SiftDown(heap, values, 0, n - 1);
        }

        return count;
    }

    // a ranks below b: smaller value, or equal value and larger index.
    private static bool Worse(ReadOnlySpan<float> values, int a, int b) =>
        values[a] < values[b] || (values[a] == values[b] && a > b);

    private static void SiftUp(Span<int> heap, ReadOnlySpan<float> values, int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Worse(values, heap[i], heap[parent]))
            {
                break;
            }

            (heap[i], heap[parent]) = (heap[parent], heap[i]);
            i = parent;
        }
    }

    private static void SiftDown(Span<int> heap, ReadOnlySpan<float> values, int i, int n)
    {
        while (true)
        {
            int left = (2 * i) + 1;
            if (left >= n)
            {
                return;
            }

            int smallest = left + 1 < n && Worse(values, heap[left + 1], heap[left]) ? left + 1 : left;
            if (!Worse(values, heap[smallest], heap[i]))
            {
                return;
            }

            (heap[i], heap[smallest]) = (heap[smallest], heap[i]);
            i = smallest;
        }
    }
}
