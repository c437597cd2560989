using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Fathom.Engine.Gguf;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using ILGPU;
using ILGPU.Runtime;
using DeviceHalf = ILGPU.Half;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// A Llama forward step that lives on an ILGPU accelerator: weights uploaded once in their GGUF layout, the paged
/// KV cache in device memory as f16, activations in device buffers. Per step only the batch description goes up
/// and either the requested logits or one token id per logit row come back.
/// </summary>
internal sealed unsafe partial class IlgpuForward : IKvBlockStorage, IDisposable
{
    private const long UploadChunk = 64L << 20;

    private readonly IlgpuDevice _device;
    private readonly LlamaHyperParameters _hp;
    private readonly LlamaWeights _weights;
    private readonly List<MemoryBuffer> _owned = [];
    private readonly Dictionary<WeightMatrix, MemoryBuffer1D<byte, Stride1D.Dense>> _matrices = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<float[], MemoryBuffer1D<float, Stride1D.Dense>> _vectors = new(ReferenceEqualityComparer.Instance);
    private readonly MemoryBuffer1D<DeviceHalf, Stride1D.Dense> _keys;   // (layers, blocks, block_size, n_head_kv, head_dim)
    private readonly MemoryBuffer1D<DeviceHalf, Stride1D.Dense> _values; // (layers, blocks, block_size, n_head_kv, head_dim)
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _cos;         // (positions, rope_dims / 2)
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _sin;         // (positions, rope_dims / 2)
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _tokenIds;      // (n_logits)
    private readonly DeviceIntBuffer _tokens;
    private readonly DeviceIntBuffer _positions;
    private readonly DeviceIntBuffer _sequences;
    private readonly DeviceIntBuffer _tableStarts;
    private readonly DeviceIntBuffer _tables;
    private readonly DeviceIntBuffer _logitRows;
    private readonly RopeParameters _rope;
    private readonly int _positionCapacity;
    private readonly bool _ownsDevice;
    private DeviceScratch? _scratch;

    public IlgpuForward(IlgpuDevice device, LlamaHyperParameters hp, LlamaWeights weights, RopeParameters rope, int blockCount, int blockSize, IProgress<double>? progress, bool ownsDevice = false)
    {
        _device = device;
        _ownsDevice = ownsDevice;
        _hp = hp;
        _weights = weights;
        _rope = rope;
        BlockCount = blockCount;
        BlockSize = blockSize;
        var accelerator = device.Accelerator;
        if (!device.Attention.SupportsHeadDimension(hp.HeadDimension))
        {
            throw new NotSupportedException($"head dimension {hp.HeadDimension} is odd or exceeds the attention kernel's {AttentionKernels.DimsPerLane} × warp size");
        }

        try
        {
            UploadWeights(progress);
            var kvLength = (long)hp.LayerCount * blockCount * blockSize * hp.KvLength;
            _keys = Own(accelerator.Allocate1D<DeviceHalf>(kvLength));
            _values = Own(accelerator.Allocate1D<DeviceHalf>(kvLength));
            _keys.MemSetToZero();
            _values.MemSetToZero();
            _positionCapacity = blockCount * blockSize;
            var half = rope.Dimensions / 2;
            var cos = new float[(long)_positionCapacity * half];
            var sin = new float[cos.Length];
            for (var p = 0; p < _positionCapacity; p++)
            {
                rope.Angles(p, cos.AsSpan(p * half, half), sin.AsSpan(p * half, half));
            }

            _cos = Own(accelerator.Allocate1D(cos));
            _sin = Own(accelerator.Allocate1D(sin));
            _tokenIds = Own(accelerator.Allocate1D<int>(1024));
            _tokens = new DeviceIntBuffer(accelerator);
            _positions = new DeviceIntBuffer(accelerator);
            _sequences = new DeviceIntBuffer(accelerator);
            _tableStarts = new DeviceIntBuffer(accelerator);
            _tables = new DeviceIntBuffer(accelerator);
            _logitRows = new DeviceIntBuffer(accelerator);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name => _device.Name;

    /// <summary>Weight types the kernels read in their GGUF layout.</summary>
    public static bool Supports(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q6_K;

    public int BlockCount { get; }

    public int BlockSize { get; }

    /// <summary>Bytes of device KV cache.</summary>
    public long KvCacheBytes => 2L * _keys.Length * 2;

    /// <summary>Bytes of weights held on the device.</summary>
    public long WeightBytes { get; private set; }

    private int TokenStride => _hp.KvLength;

    private int LayerElements => BlockCount * BlockSize * TokenStride;

    public int BlockFloats => 2 * _hp.LayerCount * BlockSize * TokenStride;

    /// <summary>Runs the step and copies the logits of the batch's logit rows to <paramref name="logits"/>. // (n_logits, vocab)</summary>
    public void Forward(ForwardBatch batch, Span<float> logits)
    {
        var m = batch.LogitTokenIndices.Length;
        Step(batch);
        if (m == 0)
        {
            return;
        }

        var count = (long)m * _hp.VocabularySize;
        _scratch!.Logits.View.SubView(0, count).CopyToCPU(ref MemoryMarshal.GetReference(logits), count);
        _device.Accelerator.Synchronize();
    }

    /// <summary>Runs the step and returns the greedy token of each logit row; only those ids leave the device.</summary>
    public int[] ForwardGreedy(ForwardBatch batch)
    {
        var m = batch.LogitTokenIndices.Length;
        Step(batch);
        var ids = new int[m];
        if (m == 0)
        {
            return ids;
        }

        var e = _device.Elementwise;
        var result = m <= _tokenIds.Length ? _tokenIds.View : Own(_device.Accelerator.Allocate1D<int>(m)).View;
        e.ArgMax(_scratch!.Logits.View, m, _hp.VocabularySize, result);
        result.SubView(0, m).CopyToCPU(ref ids[0], m);
        _device.Accelerator.Synchronize();
        return ids;
    }

    public void Dispose()
    {
        _scratch?.Dispose();
        _tokens?.Dispose();
        _positions?.Dispose();
        _sequences?.Dispose();
        _tableStarts?.Dispose();
        _tables?.Dispose();
        _logitRows?.Dispose();
        foreach (var buffer in _owned)
        {
            buffer.Dispose();
        }

        _owned.Clear();
        if (_ownsDevice)
        {
            _device.Dispose();
        }
    }

    private void Step(ForwardBatch batch)
    {
        var hp = _hp;
        var n = batch.Count;
        var m = batch.LogitTokenIndices.Length;
        var embd = hp.EmbeddingLength;
        if (_scratch is null || _scratch.Capacity < n)
        {
            _scratch?.Dispose();
            _scratch = new DeviceScratch(_device.Accelerator, hp, n);
        }

        var views = UploadBatch(batch);
        var s = _scratch;
        var e = _device.Elementwise;
        var mm = _device.MatMul;
        var att = _device.Attention;
        var eps = hp.RmsNormEpsilon;
        var tokens = _tokens.Upload(batch.Tokens);
        var embedding = _weights.TokenEmbedding;
        e.Embed(_matrices[embedding].View, (int)embedding.Type, embedding.RowBytes, tokens, n, embd, s.Residual.View); // (n, n_embd)
        var rope = new AttentionKernels.RopeViews(_rope.Dimensions, _rope.Mode == RopeMode.NeoX ? 1 : 0, _cos.View, _sin.View);
        var maxLength = 0;
        foreach (var position in batch.Positions)
        {
            maxLength = Math.Max(maxLength, position + 1);
        }

        var splits = att.ChooseSplits(n, n * hp.HeadCount, maxLength);
        for (var l = 0; l < hp.LayerCount; l++)
        {
            var w = _weights.Layers[l];
            e.RmsNorm(s.Residual.View, n, embd, _vectors[w.AttentionNorm].View, eps, s.Normed.View); // (n, n_embd)
            if (w.Query.Type == w.Key.Type && w.Key.Type == w.Value.Type)
            {
                // One launch: q (n, n_head * head_dim), k and v (n, n_head_kv * head_dim).
                _device.MatMul.MatMul3(
                    s.Normed.View,
                    n,
                    new MatMulKernels.MatMulShape((int)w.Query.Type, w.Query.Columns, w.Query.Rows, w.Query.RowBytes),
                    (_matrices[w.Query].View, w.Query.Rows, s.Query.View),
                    (_matrices[w.Key].View, w.Key.Rows, s.Key.View),
                    (_matrices[w.Value].View, w.Value.Rows, s.Value.View));
            }
            else
            {
                MatMul(s.Normed, n, w.Query, s.Query);   // (n, n_head * head_dim)
                MatMul(s.Normed, n, w.Key, s.Key);       // (n, n_head_kv * head_dim)
                MatMul(s.Normed, n, w.Value, s.Value);   // (n, n_head_kv * head_dim)
            }

            if (hp.HasQkvBias)
            {
                e.AddBias(s.Query.View, _vectors[w.QueryBias!].View, n);
                e.AddBias(s.Key.View, _vectors[w.KeyBias!].View, n);
                e.AddBias(s.Value.View, _vectors[w.ValueBias!].View, n);
            }

            var shape = new AttentionKernels.KvShape(n, hp.HeadCount, hp.KvHeadCount, hp.HeadDimension, BlockSize, (long)l * LayerElements, 1f / MathF.Sqrt(hp.HeadDimension));
            att.StoreKv(s.Key.View, s.Value.View, shape, views, _keys.View, _values.View, rope); // K rotated on the way in
            att.Attention(s.Query.View, shape, views, _keys.View, _values.View, s.Attention.View, splits, maxLength, s.AttentionPartial.View, s.AttentionStats.View, rope); // (n, n_head, head_dim); Q rotated as read
            MatMul(s.Attention, n, w.Output, s.Residual, MatMulKernels.Accumulate); // residual (n, n_embd) += attention · Woᵀ
            e.RmsNorm(s.Residual.View, n, embd, _vectors[w.FeedForwardNorm].View, eps, s.Normed.View);
            if (w.Gate.Type == w.Up.Type && w.Gate.RowBytes == w.Up.RowBytes)
            {
                MatMul(s.Normed, n, w.Gate, s.Hidden, MatMulKernels.SwiGlu, w.Up); // (n, n_ff) = silu(x · Wgᵀ) ⊙ (x · Wuᵀ)
            }
            else
            {
                MatMul(s.Normed, n, w.Gate, s.Gate); // (n, n_ff)
                MatMul(s.Normed, n, w.Up, s.Up);     // (n, n_ff)
                e.SwiGlu(s.Gate.View, s.Up.View, n * hp.FeedForwardLength, s.Hidden.View);
            }

            MatMul(s.Hidden, n, w.Down, s.Residual, MatMulKernels.Accumulate); // residual (n, n_embd) += hidden · Wdᵀ
        }

        if (m == 0)
        {
            _device.Accelerator.Synchronize();
            return;
        }

        var rows = _logitRows.Upload(batch.LogitTokenIndices);
        e.GatherRows(s.Residual.View, rows, m, embd, s.LogitInput.View); // (m, n_embd)
        e.RmsNorm(s.LogitInput.View, m, embd, _vectors[_weights.OutputNorm].View, eps, s.LogitNormed.View);
        MatMul(s.LogitNormed, m, _weights.Output, s.Logits); // (m, vocab)
    }

    private void MatMul(MemoryBuffer1D<float, Stride1D.Dense> input, int rows, WeightMatrix weight, MemoryBuffer1D<float, Stride1D.Dense> output, int epilogue = MatMulKernels.Store, WeightMatrix? second = null) =>
        _device.MatMul.MatMul(
            input.View,
            rows,
            _matrices[weight].View,
            new MatMulKernels.MatMulShape((int)weight.Type, weight.Columns, weight.Rows, weight.RowBytes, epilogue),
            output.View,
            second is null ? default : _matrices[second].View);

    private AttentionKernels.BatchViews UploadBatch(ForwardBatch batch)
    {
        var tables = batch.BlockTables;
        var starts = new int[tables.Count];
        var total = 0;
        for (var i = 0; i < tables.Count; i++)
        {
            starts[i] = total;
            total += tables[i].Length;
        }

        var flat = new int[Math.Max(1, total)];
        for (var i = 0; i < tables.Count; i++)
        {
            foreach (var block in tables[i])
            {
                if ((uint)block >= (uint)BlockCount)
                {
                    throw new ArgumentException($"block id {block} is outside the {BlockCount} blocks of the KV storage", nameof(batch));
                }
            }

            tables[i].CopyTo(flat, starts[i]);
        }

        for (var t = 0; t < batch.Count; t++)
        {
            var position = batch.Positions[t];
            var table = batch.BlockTableOf(t);
            if (position / BlockSize >= table.Length)
            {
                throw new ArgumentException($"position {position} needs block {position / BlockSize} but the block table has {table.Length} blocks", nameof(batch));
            }

            if (position >= _positionCapacity)
            {
                throw new ArgumentException($"position {position} is beyond the {_positionCapacity} positions the KV cache can hold", nameof(batch));
            }
        }

        return new AttentionKernels.BatchViews(_positions.Upload(batch.Positions), _sequences.Upload(batch.SequenceIndices), _tableStarts.Upload(starts), _tables.Upload(flat));
    }

    private void UploadWeights(IProgress<double>? progress)
    {
        var matrices = new List<WeightMatrix> { _weights.TokenEmbedding, _weights.Output };
        var vectors = new List<float[]> { _weights.OutputNorm };
        foreach (var w in _weights.Layers)
        {
            matrices.AddRange([w.Query, w.Key, w.Value, w.Output, w.Gate, w.Up, w.Down]);
            vectors.AddRange([w.AttentionNorm, w.FeedForwardNorm]);
            if (w.QueryBias is not null)
            {
                vectors.AddRange([w.QueryBias, w.KeyBias!, w.ValueBias!]);
            }
        }

        var unique = matrices.Distinct(ReferenceEqualityComparer.Instance).Cast<WeightMatrix>().ToList();
        var total = unique.Sum(w => w.RowBytes * w.Rows);
        long done = 0;
        var accelerator = _device.Accelerator;
        foreach (var w in unique)
        {
            var bytes = w.RowBytes * w.Rows;
            var buffer = Own(accelerator.Allocate1D<byte>(MatMulKernels.PaddedBytes(bytes))); // (rows, row_bytes) + pad to whole words
            for (long offset = 0; offset < bytes; offset += UploadChunk)
            {
                var length = Math.Min(UploadChunk, bytes - offset);
                buffer.View.SubView(offset, length).CopyFromCPU(ref Unsafe.AsRef<byte>(w.Data + offset), length);
                done += length;
                progress?.Report(total == 0 ? 1 : (double)done / total);
            }

            _matrices[w] = buffer;
        }

        foreach (var v in vectors)
        {
            _vectors.TryAdd(v, Own(accelerator.Allocate1D(v)));
        }

        WeightBytes = total;
        progress?.Report(1);
    }

    private T Own<T>(T buffer)
        where T : MemoryBuffer
    {
        _owned.Add(buffer);
        return buffer;
    }
}
