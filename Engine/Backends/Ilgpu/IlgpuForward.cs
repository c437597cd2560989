using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Fathom.Engine.Quantization;
using Fathom.Gguf;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;
using Fathom.Engine.Sampling;
using ILGPU;
using ILGPU.Runtime;
using DeviceHalf = ILGPU.Half;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// A Llama forward step that lives on an ILGPU accelerator: weights uploaded once in their GGUF layout, the paged
/// KV cache in device memory as f16 or fp8 e4m3 (<see cref="KvCacheView"/>), activations in device buffers. Per step only the batch description goes up
/// and either the requested logits or one token id per logit row come back.
/// </summary>
internal sealed unsafe partial class IlgpuForward : IDeviceForward
{
    private const long UploadChunk = 64L << 20;

    private readonly IlgpuDevice _device;
    private readonly LlamaHyperParameters _hp;
    private readonly LlamaWeights _weights;
    private readonly List<MemoryBuffer> _owned = [];
    private readonly Dictionary<WeightMatrix, MemoryBuffer1D<byte, Stride1D.Dense>> _matrices = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<float[], MemoryBuffer1D<float, Stride1D.Dense>> _vectors = new(ReferenceEqualityComparer.Instance);
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _keys;   // (layers, blocks, block_size, n_head_kv, head_dim) f16 or fp8 elements
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _values; // (layers, blocks, block_size, n_head_kv, head_dim) f16 or fp8 elements
    private readonly bool _fp8Kv;
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
    private readonly bool _computesLogits; // false on tensor-parallel shards other than the first: no output matrix
    private readonly bool _separateGateUp; // some layer's gate and up cannot run as one fused SwiGLU launch
    private DeviceScratch? _scratch;
    private DeviceSampler? _sampler;
    private readonly Dictionary<WeightMatrix, MemoryBuffer1D<int, Stride1D.Dense>> _columnOrders = new(ReferenceEqualityComparer.Instance); // GPTQ desc_act: (columns)
    private ColumnOrderKernels? _columnOrderKernels;
    private MemoryBuffer1D<float, Stride1D.Dense>? _gathered; // (rows, columns): a desc_act matrix's activations in its column order

    /// <summary>
    /// Uploads the weights and allocates the KV cache: <paramref name="blockCount"/> blocks, or, with
    /// <paramref name="memoryUtilization"/>, as many as that fraction of the device's memory holds after the
    /// weights and an activation reserve (<see cref="MemoryPlan"/>). <paramref name="kvDataType"/> <c>fp8</c> keeps K/V
    /// as e4m3 bytes; anything else as f16.
    /// </summary>
    public IlgpuForward(IlgpuDevice device, LlamaHyperParameters hp, LlamaWeights weights, RopeParameters rope, int blockCount, int blockSize, IProgress<double>? progress, bool ownsDevice = false, bool computesLogits = true, double? memoryUtilization = null, KvCacheDataType kvDataType = KvCacheDataType.F32)
    {
        _fp8Kv = kvDataType == KvCacheDataType.Fp8;
        _device = device;
        _computesLogits = computesLogits;
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

        _separateGateUp = weights.Layers.Any(w => !FusesGateUp(w));
        try
        {
            UploadWeights(progress);
            if (memoryUtilization is { } utilization)
            {
                MemoryPlan = PlanMemory(utilization, blockSize);
                BlockCount = blockCount = MemoryPlan.Blocks;
            }

            var kvBytes = (long)hp.LayerCount * blockCount * blockSize * hp.KvLength * KvElementBytes;
            _keys = Own(accelerator.Allocate1D<byte>(kvBytes));
            _values = Own(accelerator.Allocate1D<byte>(kvBytes));
            _keys.MemSetToZero();
            _values.MemSetToZero();
            // Sized by memory, the cache can hold many contexts' worth of tokens; no position goes past the context.
            _positionCapacity = memoryUtilization is null ? blockCount * blockSize : Math.Min(blockCount * blockSize, Math.Max(blockSize, hp.ContextLength));
            var half = rope.Dimensions / 2;
            var cos = new float[(long)_positionCapacity * half];
            var sin = new float[cos.Length];
            for (var p = 0; p < _positionCapacity; p++)
            {
                rope.Angles(p, cos.AsSpan(p * half, half), sin.AsSpan(p * half, half));
            }

            _cos = Own(HostCopy.Allocate<float>(accelerator, cos));
            _sin = Own(HostCopy.Allocate<float>(accelerator, sin));
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

    /// <summary>The accelerator this forward runs on (tensor parallelism allocates its page-locked staging there).</summary>
    internal Accelerator Accelerator => _device.Accelerator;

    /// <summary>Weight types the kernels read in their GGUF layout.</summary>
    public static bool Supports(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q4_K or GgmlType.Q6_K
        or CheckpointTypes.Fp8Rows or CheckpointTypes.Int4ZeroPoint;

    public int BlockCount { get; }

    /// <summary>How the device memory was shared out, when the KV cache was sized by <c>--gpu-memory-utilization</c>.</summary>
    public DeviceMemoryPlan? MemoryPlan { get; }

    /// <summary>Bytes of the current step scratch buffers on the device (0 before the first step).</summary>
    internal long ScratchBytes => _scratch?.Bytes ?? 0;

    public int BlockSize { get; }

    /// <summary>Bytes of device KV cache.</summary>
    public long KvCacheBytes => 2L * _keys.Length;

    /// <summary>The element type the device cache holds: f16 or fp8.</summary>
    public KvCacheDataType DeviceKvDataType => _fp8Kv ? KvCacheDataType.Fp8 : KvCacheDataType.F16;

    private int KvElementBytes => KvCacheDataTypes.SizeOf(DeviceKvDataType);

    // The cache tensors as the kernels read and write them.
    private KvCacheView KeyCache => _fp8Kv ? KvCacheView.E4M3(_keys.View) : KvCacheView.F16(_keys.View.AsContiguous().Cast<DeviceHalf>());

    private KvCacheView ValueCache => _fp8Kv ? KvCacheView.E4M3(_values.View) : KvCacheView.F16(_values.View.AsContiguous().Cast<DeviceHalf>());

    /// <summary>Bytes of weights held on the device.</summary>
    public long WeightBytes { get; private set; }

    // Norm weights and biases uploaded beside the matrices (f32).
    private long VectorBytes { get; set; }

    private int TokenStride => _hp.KvLength;

    private int LayerElements => BlockCount * BlockSize * TokenStride;

    public int BlockFloats => 2 * _hp.LayerCount * BlockSize * TokenStride;

    /// <summary>Runs the step and copies the logits of the batch's logit rows to <paramref name="logits"/>. // (n_logits, vocab)</summary>
    public void Forward(ForwardBatch batch, Span<float> logits)
    {
        Step(batch);
        CopyLogits(batch.LogitTokenIndices.Length, logits);
    }

    /// <summary>Runs the step and returns the greedy token of each logit row; only those ids leave the device.</summary>
    public int[] ForwardGreedy(ForwardBatch batch)
    {
        Step(batch);
        return GreedyTokens(batch.LogitTokenIndices.Length);
    }

    /// <summary>Runs the step and draws each job's token on the device; only the <paramref name="hostRows"/> logit rows leave it. // logits (n_logits, vocab)</summary>
    public void ForwardSampled(ForwardBatch batch, IReadOnlyList<SamplingJob> jobs, Span<int> tokens, ReadOnlySpan<int> hostRows, Span<float> logits)
    {
        Step(batch);
        SampleTokens(jobs, tokens);
        CopyLogitRows(hostRows, logits);
    }

    /// <summary>Draws each job's token from the logit rows of the last finished step (<see cref="DeviceSampler"/>).</summary>
    internal void SampleTokens(IReadOnlyList<SamplingJob> jobs, Span<int> tokens)
    {
        Activate();
        _sampler ??= new DeviceSampler(_device.Accelerator, _device.Sampling);
        _sampler.Sample(_scratch!.Logits!.View, _hp.VocabularySize, jobs, tokens);
    }

    /// <summary>Copies the listed logit rows of the last finished step to the same rows of <paramref name="logits"/>. // (n_logits, vocab)</summary>
    internal void CopyLogitRows(ReadOnlySpan<int> rows, Span<float> logits)
    {
        Activate();
        var vocab = _hp.VocabularySize;
        foreach (var row in rows)
        {
            HostCopy.ToHost(_device.Accelerator, _scratch!.Logits!.View.SubView((long)row * vocab, vocab), logits.Slice(row * vocab, vocab));
        }
    }

    /// <summary>Copies the <paramref name="m"/> logit rows of the last finished step to the host. // (m, vocab)</summary>
    internal void CopyLogits(int m, Span<float> logits)
    {
        Activate();
        if (m == 0)
        {
            return;
        }

        HostCopy.ToHost(_device.Accelerator, _scratch!.Logits!.View, logits[..(m * _hp.VocabularySize)]);
    }

    /// <summary>The argmax of each of the <paramref name="m"/> logit rows of the last finished step, computed on the device.</summary>
    internal int[] GreedyTokens(int m)
    {
        Activate();
        var ids = new int[m];
        if (m == 0)
        {
            return ids;
        }

        var e = _device.Elementwise;
        var result = m <= _tokenIds.Length ? _tokenIds.View : Own(_device.Accelerator.Allocate1D<int>(m)).View;
        e.ArgMax(_scratch!.Logits!.View, m, _hp.VocabularySize, result);
        HostCopy.ToHost(_device.Accelerator, result, ids.AsSpan());
        return ids;
    }

    public void Dispose()
    {
        _scratch?.Dispose();
        _sampler?.Dispose();
        _gathered?.Dispose();
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

    /// <summary>Whether a layer's gate and up run as one fused SwiGLU launch: same layout, and both read the activations as they are.</summary>
    private static bool FusesGateUp(LlamaLayerWeights w) => w.Gate.Type == w.Up.Type && w.Gate.RowBytes == w.Up.RowBytes && InColumnOrder(w.Gate, w.Up);

    /// <summary>Whether none of <paramref name="weights"/> has a column order (so they may share one launch's input).</summary>
    private static bool InColumnOrder(params ReadOnlySpan<WeightMatrix> weights)
    {
        foreach (var w in weights)
        {
            if (w.ColumnOrder is not null)
            {
                return false;
            }
        }

        return true;
    }

    private void MatMul(MemoryBuffer1D<float, Stride1D.Dense> input, int rows, WeightMatrix weight, MemoryBuffer1D<float, Stride1D.Dense> output, int epilogue = MatMulKernels.Store, WeightMatrix? second = null) =>
        _device.MatMul.MatMul(
            InputFor(input, rows, weight),
            rows,
            _matrices[weight].View,
            new MatMulKernels.MatMulShape((int)weight.Type, weight.Columns, weight.Rows, weight.RowBytes, epilogue),
            output.View,
            second is null ? default : _matrices[second].View);

    /// <summary>The activations as <paramref name="weight"/> stores its columns: gathered for a desc_act matrix, else as they are.</summary>
    private ArrayView<float> InputFor(MemoryBuffer1D<float, Stride1D.Dense> input, int rows, WeightMatrix weight)
    {
        if (!_columnOrders.TryGetValue(weight, out var order))
        {
            return input.View;
        }

        var length = (long)rows * weight.Columns;
        if (_gathered is null || _gathered.Length < length)
        {
            _gathered?.Dispose();
            _gathered = _device.Accelerator.Allocate1D<float>(length);
        }

        _columnOrderKernels!.Gather(input.View, order.View, rows, weight.Columns, _gathered.View);
        return _gathered.View;
    }

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
        var matrices = new List<WeightMatrix> { _weights.TokenEmbedding };
        if (_computesLogits)
        {
            matrices.Add(_weights.Output);
        }

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
            if (w.ColumnOrder is { } order)
            {
                _columnOrders[w] = Own(accelerator.Allocate1D(order));
                _columnOrderKernels ??= new ColumnOrderKernels(accelerator);
            }

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
            if (!_vectors.ContainsKey(v))
            {
                _vectors[v] = Own(HostCopy.Allocate<float>(accelerator, v));
                VectorBytes += (long)v.Length * sizeof(float);
            }
        }

        WeightBytes = total;
        progress?.Report(1);
    }

    // Device memory in use after the weights: the driver's count on CUDA, what this forward allocated on the CPU
    // accelerator. The reserve is the scratch of a 2,048-token step with 256 logit rows, the largest a default
    // scheduler step asks for; a bigger step still runs, growing its scratch into what the utilization left free.
    private DeviceMemoryPlan PlanMemory(double utilization, int blockSize)
    {
        const int ReserveTokens = 2048;
        const int ReserveLogitRows = 256;
        var total = _device.TotalMemoryBytes;
        var used = _device.FreeMemoryBytes() is { } free ? total - free : WeightBytes + VectorBytes;
        var ropeBytes = 2L * Math.Max(blockSize, _hp.ContextLength) * (_rope.Dimensions / 2) * sizeof(float);
        var reserve = DeviceScratch.BytesFor(_hp, new DeviceScratch.ScratchShape(ReserveTokens, ReserveLogitRows, _computesLogits, _separateGateUp)) + ropeBytes;
        var blockElements = (long)blockSize * _hp.KvLength;
        var blockBytes = 2L * _hp.LayerCount * blockElements * KvElementBytes; // K and V
        var maxBlocks = (int)Math.Min(int.MaxValue / blockElements, int.MaxValue / blockSize);
        return DeviceMemoryPlan.Plan(total, utilization, WeightBytes + VectorBytes, used, reserve, blockBytes, blockSize, _hp.ContextLength, maxBlocks, DeviceKvDataType);
    }

    private T Own<T>(T buffer)
        where T : MemoryBuffer
    {
        _owned.Add(buffer);
        return buffer;
    }
}
