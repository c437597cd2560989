using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using DeviceHalf = ILGPU.Half;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// Tiled causal grouped-query attention for prefill-sized steps (flash attention, plain f32 FMA arithmetic, no tensor
/// cores), over the same paged f16 KV cache and block tables as <see cref="AttentionKernels"/>. One group per
/// (query tile, KV head): a query tile is up to <see cref="Rows"/> / ratio consecutive step tokens of one sequence
/// (ratio = query heads per KV head), and its rows are every (token, query head) of that KV head, so each K/V
/// position is read from the cache once per tile and serves all query heads of the GQA group (the warp-per-(token,
/// head) kernel reads it once per query head and token). Per tile of <see cref="Keys"/> positions the group stages K
/// and V in shared memory as f32, computes the scores of all rows, updates each row's running max and sum (online
/// softmax in f32) and rescales and accumulates the outputs, also in shared memory. Threads stride over the work,
/// so the kernel uses no warp shuffles and runs on any warp width and group size.
/// </summary>
internal sealed class FlashAttentionKernels : IDisposable
{
    /// <summary>Query rows (token, head) per group: the Q and output tiles.</summary>
    public const int Rows = 32;

    /// <summary>Cache positions per K/V tile.</summary>
    public const int Keys = 8;

    /// <summary>Largest head dimension the shared tiles hold.</summary>
    public const int MaxHeadDimension = 128;

    /// <summary>Fewest query rows per tile, on average, for a step to go to this kernel (a 1-row tile would idle the group).</summary>
    public const int MinRowsPerTile = 4;

    // Q and K rows padded by one word: the threads of a warp reading 8 key rows (or 4 query rows) at one dimension hit distinct banks.
    private const int Stride = MaxHeadDimension + 1;

    private readonly IlgpuKernelOptions _options;
    private readonly int _groupSize;
    private readonly DeviceIntBuffer _tiles;
    private readonly Action<KernelConfig, ArrayView<float>, AttentionKernels.KvShape, AttentionKernels.BatchViews, KvCacheView, KvCacheView, ArrayView<float>, ArrayView<int>, AttentionKernels.RopeViews> _flash;

    /// <summary>Loads the kernel; <paramref name="options"/> (default: <see cref="IlgpuKernelOptions.Current"/>) can turn it off.</summary>
    public FlashAttentionKernels(Accelerator accelerator, IlgpuKernelOptions? options = null)
    {
        _options = options ?? IlgpuKernelOptions.Current;
        _groupSize = Math.Min(128, accelerator.MaxNumThreadsPerGroup);
        _tiles = new DeviceIntBuffer(accelerator);
        _flash = accelerator.LoadStreamKernel<ArrayView<float>, AttentionKernels.KvShape, AttentionKernels.BatchViews, KvCacheView, KvCacheView, ArrayView<float>, ArrayView<int>, AttentionKernels.RopeViews>(FlashAttentionKernel);
    }

    /// <summary>A step's query tiles on the device: (first token, tokens) pairs. <see cref="Count"/> 0: the step does not use this kernel.</summary>
    internal readonly record struct TileViews(int Count, ArrayView<int> Tiles);

    /// <summary>Launches so far (tests check which attention kernel a step chose).</summary>
    internal int Launches { get; private set; }

    // ---- kernel ----

    /// <summary>
    /// Grid: (tiles, n_head_kv); group: any size (up to 128 threads used well). Q rows are rotated by RoPE as they are
    /// read, as in <see cref="AttentionKernels.AttentionKernel"/>; row r of a tile is token first + r / ratio, head
    /// kv_head · ratio + r % ratio, attending positions 0 ..= its own. // q, output (n_tokens, n_head, head_dim);
    /// tiles (tile count, 2): first token and token count, all of one sequence
    /// </summary>
    internal static void FlashAttentionKernel(ArrayView<float> q, AttentionKernels.KvShape shape, AttentionKernels.BatchViews batch, KvCacheView keys, KvCacheView values, ArrayView<float> output, ArrayView<int> tiles, AttentionKernels.RopeViews rope)
    {
        var qs = SharedMemory.Allocate<float>(Rows * Stride);             // (rows, head_dim) rotated Q
        var os = SharedMemory.Allocate<float>(Rows * MaxHeadDimension);   // (rows, head_dim) unnormalised outputs
        var ks = SharedMemory.Allocate<float>(Keys * Stride);             // (keys, head_dim)
        var vs = SharedMemory.Allocate<float>(Keys * MaxHeadDimension);   // (keys, head_dim)
        var ps = SharedMemory.Allocate<float>(Rows * Keys);               // scores, then weights
        var rowMax = SharedMemory.Allocate<float>(Rows);
        var rowSum = SharedMemory.Allocate<float>(Rows);
        var rowScale = SharedMemory.Allocate<float>(Rows);
        var rowPosition = SharedMemory.Allocate<int>(Rows);

        var first = tiles[2 * Grid.IdxX];
        var count = tiles[(2 * Grid.IdxX) + 1];
        var kvHead = Grid.IdxY;
        var ratio = shape.Heads / shape.KvHeads;
        var rows = count * ratio;
        var hd = shape.HeadDimension;
        var tid = Group.IdxX;
        var threads = Group.DimX;

        for (var e = tid; e < rows * hd; e += threads)
        {
            var r = e / hd;
            var d = e - (r * hd);
            var token = first + (r / ratio);
            var head = (kvHead * ratio) + (r % ratio);
            qs[(r * Stride) + d] = AttentionKernels.Rotated(q, (((long)token * shape.Heads) + head) * hd, d, batch.Positions[token], rope);
            os[(r * MaxHeadDimension) + d] = 0f;
        }

        for (var r = tid; r < rows; r += threads)
        {
            rowMax[r] = float.NegativeInfinity;
            rowSum[r] = 0f;
            rowPosition[r] = batch.Positions[first + (r / ratio)];
        }

        var length = 0;
        for (var i = 0; i < count; i++)
        {
            length = XMath.Max(length, batch.Positions[first + i] + 1);
        }

        for (var k0 = 0; k0 < length; k0 += Keys)
        {
            Group.Barrier(); // the previous tile's readers of ks, vs and ps are done (first pass: qs, os, stats written)
            LoadKvTile(shape, batch, keys, values, first, kvHead, k0, length, ks, vs);
            Group.Barrier();
            for (var e = tid; e < rows * Keys; e += threads)
            {
                var r = e / Keys;
                var j = e - (r * Keys);
                var score = float.NegativeInfinity;
                if (k0 + j <= rowPosition[r])
                {
                    var dot = 0f;
                    for (var d = 0; d < hd; d++)
                    {
                        dot += qs[(r * Stride) + d] * ks[(j * Stride) + d];
                    }

                    score = dot * shape.Scale;
                }

                ps[e] = score;
            }

            Group.Barrier();
            for (var r = tid; r < rows; r += threads)
            {
                var max = rowMax[r];
                var newMax = max;
                for (var j = 0; j < Keys; j++)
                {
                    newMax = XMath.Max(newMax, ps[(r * Keys) + j]);
                }

                // Position 0 is in the first tile and every row attends it, so newMax is finite from the first tile on.
                var sum = 0f;
                for (var j = 0; j < Keys; j++)
                {
                    var weight = k0 + j <= rowPosition[r] ? XMath.Exp(ps[(r * Keys) + j] - newMax) : 0f;
                    ps[(r * Keys) + j] = weight;
                    sum += weight;
                }

                var correction = XMath.Exp(max - newMax);
                rowSum[r] = (rowSum[r] * correction) + sum;
                rowMax[r] = newMax;
                rowScale[r] = correction;
            }

            Group.Barrier();
            for (var e = tid; e < rows * hd; e += threads)
            {
                var r = e / hd;
                var d = e - (r * hd);
                var o = os[(r * MaxHeadDimension) + d] * rowScale[r];
                for (var j = 0; j < Keys; j++)
                {
                    o += ps[(r * Keys) + j] * vs[(j * MaxHeadDimension) + d];
                }

                os[(r * MaxHeadDimension) + d] = o;
            }
        }

        Group.Barrier();
        for (var e = tid; e < rows * hd; e += threads)
        {
            var r = e / hd;
            var d = e - (r * hd);
            var token = first + (r / ratio);
            var head = (kvHead * ratio) + (r % ratio);
            output[((((long)token * shape.Heads) + head) * hd) + d] = os[(r * MaxHeadDimension) + d] * (1f / rowSum[r]);
        }
    }

    /// <summary>
    /// The kernel's only read of the KV cache: positions [k0, k0 + <see cref="Keys"/>) of <paramref name="kvHead"/> in
    /// the sequence of <paramref name="token"/>, pairs read through <see cref="KvCacheView.Pair"/> (f16 or fp8; consecutive threads, consecutive words of
    /// a row) and widened to f32 in <paramref name="ks"/> / <paramref name="vs"/>; positions at or past
    /// <paramref name="length"/> are zeros (their weights are zero; a zero keeps 0 · garbage from becoming NaN).
    /// </summary>
    private static void LoadKvTile(AttentionKernels.KvShape shape, AttentionKernels.BatchViews batch, KvCacheView keys, KvCacheView values, int token, int kvHead, int k0, int length, ArrayView<float> ks, ArrayView<float> vs)
    {
        var hd = shape.HeadDimension;
        var pairs = hd >> 1;
        var stride = shape.KvHeads * hd;
        for (var i = Group.IdxX; i < Keys * pairs; i += Group.DimX)
        {
            var j = i / pairs;
            var pair = i - (j * pairs);
            var p = k0 + j;
            float k0Value = 0f, k1Value = 0f, v0Value = 0f, v1Value = 0f;
            if (p < length)
            {
                // Element offsets are even because head_dim is: each pair is one aligned load, whatever the element type.
                var element = shape.LayerOffset + (AttentionKernels.Slot(batch, shape, token, p) * stride) + ((long)kvHead * hd) + (2 * pair);
                keys.Pair(element, out k0Value, out k1Value);
                values.Pair(element, out v0Value, out v1Value);
            }

            ks[(j * Stride) + (2 * pair)] = k0Value;
            ks[(j * Stride) + (2 * pair) + 1] = k1Value;
            vs[(j * MaxHeadDimension) + (2 * pair)] = v0Value;
            vs[(j * MaxHeadDimension) + (2 * pair) + 1] = v1Value;
        }
    }

    // ---- launchers ----

    /// <summary>Whether a model's head layout fits the kernel: even head_dim ≤ <see cref="MaxHeadDimension"/>, whole GQA groups of at most <see cref="Rows"/> heads.</summary>
    public static bool Supports(int heads, int kvHeads, int headDimension) =>
        headDimension % 2 == 0 && headDimension <= MaxHeadDimension && kvHeads > 0 && heads % kvHeads == 0 && heads / kvHeads <= Rows;

    /// <summary>
    /// Query tiles of a step whose token i belongs to sequence <paramref name="sequences"/>[i]: runs of consecutive
    /// tokens of one sequence, cut every <see cref="Rows"/> / <paramref name="ratio"/> tokens. // (tiles, 2): first, count
    /// </summary>
    public static int[] PlanTiles(ReadOnlySpan<int> sequences, int ratio)
    {
        var perTile = Math.Max(1, Rows / ratio);
        var tiles = new List<int>();
        for (var t = 0; t < sequences.Length;)
        {
            var end = t + 1;
            while (end < sequences.Length && end - t < perTile && sequences[end] == sequences[t])
            {
                end++;
            }

            tiles.Add(t);
            tiles.Add(end - t);
            t = end;
        }

        return [.. tiles];
    }

    /// <summary>
    /// Chooses the kernel for a step and uploads its tiles: this kernel for unsplit steps of more than
    /// <see cref="AttentionKernels.SplitTokenLimit"/> tokens (prefill, large batches) whose tiles hold
    /// <see cref="MinRowsPerTile"/> rows on average, when the switch is on and the head layout fits; otherwise
    /// <c>Count</c> 0 (the split-K/warp-per-row kernel runs). Call at the start of a step, before the layers are queued.
    /// </summary>
    public TileViews PlanStep(ReadOnlySpan<int> sequences, int splits, int heads, int kvHeads, int headDimension)
    {
        if (!_options.FlashAttention || splits != 1 || sequences.Length <= AttentionKernels.SplitTokenLimit || !Supports(heads, kvHeads, headDimension))
        {
            return default;
        }

        var ratio = heads / kvHeads;
        var tiles = PlanTiles(sequences, ratio);
        var count = tiles.Length / 2;
        if ((long)sequences.Length * ratio < (long)count * MinRowsPerTile)
        {
            return default;
        }

        return new TileViews(count, _tiles.Upload(tiles));
    }

    /// <summary>
    /// Attention of every (token, head) of the step's <paramref name="tiles"/> over its sequence's cache, written to
    /// <paramref name="output"/>; Q is rotated by <paramref name="rope"/> as it is read (unrotated in <paramref name="q"/>).
    /// </summary>
    public void Attention(ArrayView<float> q, AttentionKernels.KvShape shape, AttentionKernels.BatchViews batch, ArrayView<DeviceHalf> keys, ArrayView<DeviceHalf> values, ArrayView<float> output, TileViews tiles, AttentionKernels.RopeViews rope = default) =>
        Attention(q, shape, batch, KvCacheView.F16(keys), KvCacheView.F16(values), output, tiles, rope);

    /// <summary>As the f16 overload, over caches of any element type (<see cref="KvCacheView"/>).</summary>
    public void Attention(ArrayView<float> q, AttentionKernels.KvShape shape, AttentionKernels.BatchViews batch, KvCacheView keys, KvCacheView values, ArrayView<float> output, TileViews tiles, AttentionKernels.RopeViews rope = default)
    {
        if (tiles.Count == 0 || !Supports(shape.Heads, shape.KvHeads, shape.HeadDimension))
        {
            throw new ArgumentException($"no tiles, or heads {shape.Heads}/{shape.KvHeads} with head_dim {shape.HeadDimension} do not fit the flash-attention kernel", nameof(tiles));
        }

        Launches++;
        _flash(new KernelConfig(new Index2D(tiles.Count, shape.KvHeads), new Index2D(_groupSize, 1)), q, shape, batch, keys, values, output, tiles.Tiles, rope);
    }

    public void Dispose() => _tiles.Dispose();
}
