using Fathom.Engine.Sampling;
using Fathom.Engine.Backends;
using Fathom.Engine.Backends.Cpu;
using Fathom.Engine.Backends.Ilgpu;
using Fathom.Engine.Backends.Reference;
using Fathom.Gguf;
using Fathom.Engine.KvCache;

namespace Fathom.Engine.Model;

/// <summary>
/// A loaded Llama-family model (<c>llama</c>, <c>qwen2</c>): memory-mapped weights, a paged KV cache and a backend.
/// <see cref="Forward"/> runs one batched step; it is not thread-safe (one step at a time).
/// </summary>
public sealed class LlamaModel : IDisposable
{
    private readonly ModelTensorSource _source;
    private readonly LlamaWeights _weights;
    private readonly IComputeBackend _backend;
    private readonly PagedKvStorage _kv;
    private readonly RopeParameters _rope;
    private IDeviceForward? _device; // set when an ILGPU backend runs the whole step on its accelerator(s)
    private HugePageWeights? _weightCopies;
    private ForwardScratch? _scratch;
    private float[] _logitInput = [];  // (n_logits, n_embd)
    private float[] _logitNormed = []; // (n_logits, n_embd)
    private float[] _logits = [];      // (n_logits, vocab)

    private LlamaModel(ModelTensorSource source, LlamaHyperParameters hp, LlamaWeights weights, IComputeBackend backend, PagedKvStorage kv)
    {
        _source = source;
        HyperParameters = hp;
        _weights = weights;
        _backend = backend;
        _kv = kv;
        var divisors = weights.RopeDivisors ?? hp.Llama3Scaling?.FrequencyDivisors(hp.RopeFrequencyBase, hp.RopeDimensionCount);
        _rope = new RopeParameters(hp.RopeMode, hp.RopeDimensionCount, hp.RopeFrequencyBase, hp.RopeFrequencyScale, divisors);
    }

    /// <summary>The model's shape.</summary>
    public LlamaHyperParameters HyperParameters { get; }

    /// <summary>The open GGUF file (metadata for tokenizers; weights are mapped from it); null for a model directory.</summary>
    public GgufFile? File => _source.Gguf;

    /// <summary>The GGUF file or Hugging Face model directory the model was loaded from.</summary>
    public string Path => _source.Path;

    /// <summary>Whether the model was loaded from a Hugging Face model directory (config.json and safetensors).</summary>
    public bool IsDirectory => _source.Gguf is null;

    /// <summary>The files the weights were read from (every GGUF part, or config.json and every safetensors shard).</summary>
    public IReadOnlyList<string> FilePaths => _source.FilePaths;

    /// <summary>Bytes of the weights as the forward pass holds them (after any <see cref="ModelLoadOptions.Quantization"/>).</summary>
    public long WeightBytes => _weights.ByteSize;

    /// <summary><see cref="WeightBytes"/> by the type the weights are held in (<c>Q8_0</c>, <c>BF16</c>, <c>fp8-e4m3-rows</c>, <c>F32</c>…).</summary>
    public IReadOnlyDictionary<string, long> WeightBytesByType => _weights.BytesByType();

    /// <summary>The weights as held for the forward pass (their types and layouts, for tests and diagnostics).</summary>
    internal LlamaWeights Weights => _weights;

    /// <summary>Bytes of weights a decode step reads in full (all but the token embedding table, of which a step reads one row per token).</summary>
    public long StepWeightBytes => _weights.StepReadBytes;

    /// <summary>Bytes of the weights as stored in the files.</summary>
    public long StoredWeightBytes => _source.Tensors.Sum(t => t.ByteSize);

    /// <summary>Name of the backend running the model.</summary>
    public string BackendName => _device?.Name ?? _backend.Name;

    /// <summary>Number of physical KV blocks.</summary>
    public int KvBlockCount => _device?.BlockCount ?? _kv.BlockCount;

    /// <summary>Tokens per KV block.</summary>
    public int KvBlockSize => _kv.BlockSize;

    /// <summary>How the device memory was shared out when the KV cache was sized by <see cref="ModelLoadOptions.GpuMemoryUtilization"/>; null otherwise.</summary>
    public DeviceMemoryPlan? DeviceMemoryPlan => _device?.MemoryPlan;

    /// <summary>The device forward when an ILGPU backend runs the model (tests read its buffers' sizes).</summary>
    internal IDeviceForward? DeviceForward => _device;

    /// <summary>Bytes of KV cache.</summary>
    public long KvCacheBytes => _device?.KvCacheBytes ?? _kv.ByteSize;

    /// <summary>The element type of the KV cache's block payloads (see <see cref="KvCacheDataTypeSelection.Resolve"/>).</summary>
    public KvCacheDataType KvCacheDataType => KvBlocks.DataType;

    /// <summary>Block-level access to the KV cache (for second-tier loads and stores).</summary>
    public IKvBlockStorage KvBlocks => (IKvBlockStorage?)_device ?? _kv;

    /// <summary>Identity of everything that decides this model's K/V for given tokens (see <see cref="ModelIdentity"/>).</summary>
    public ModelFingerprint Fingerprint { get; private init; }

    internal PagedKvStorage KvStorage => _kv;

    internal IComputeBackend Backend => _backend;

    internal RopeParameters Rope => _rope;

    private static unsafe void ReleaseMappedTensors(ModelTensorSource source)
    {
        foreach (var tensor in source.Tensors)
        {
            HugePageWeights.Release(tensor.Data, tensor.ByteSize);
        }
    }

    /// <summary>Opens <paramref name="path"/> (a GGUF file or a Hugging Face model directory) and prepares it to run.</summary>
    /// <exception cref="GgufFormatException">The file is not valid GGUF.</exception>
    /// <exception cref="Safetensors.SafetensorsFormatException">A file of the model directory (config.json, a safetensors file or its index) is malformed or inconsistent.</exception>
    /// <exception cref="ModelLoadException">The file is not a model Fathom can run.</exception>
    public static LlamaModel Load(string path, ModelLoadOptions? options = null)
    {
        options ??= new ModelLoadOptions();
        var file = ModelTensorSource.Open(path);
        IComputeBackend? backend = null;
        IlgpuDevice? device = null;
        HugePageWeights? copies = null;
        try
        {
            var hp = file.ReadHyperParameters();
            var kind = IlgpuBackendSelection.Resolve(options.Backend);
            ArgumentOutOfRangeException.ThrowIfLessThan(options.TensorParallel, 1);
            if (options.TensorParallel > 1 && !IlgpuBackendSelection.IsIlgpu(kind))
            {
                throw new NotSupportedException($"tensor parallelism {options.TensorParallel} needs an ILGPU backend (cuda or ilgpu-cpu), not '{ComputeBackendKinds.ToName(kind)}'");
            }

            if (options.GpuMemoryUtilization is not null && !IlgpuBackendSelection.IsIlgpu(kind))
            {
                throw new NotSupportedException($"--gpu-memory-utilization sizes a device's KV cache and backend '{ComputeBackendKinds.ToName(kind)}' has no device; use --kv-cache-memory");
            }

            if (options.GpuMemoryUtilization is not null && options.KvBlockCount is not null)
            {
                throw new ArgumentException("give a KV block count or --gpu-memory-utilization, not both", nameof(options));
            }

            device = !IlgpuBackendSelection.IsIlgpu(kind) ? null : options.OpenDevice is { } open ? open() : IlgpuDevice.Open(kind);
            backend = kind switch
            {
                ComputeBackendKind.Reference => new ReferenceBackend(),
                _ when device is not null => new ReferenceBackend(), // host-side ArgMax only; the step runs on the device
                _ => new CpuBackend(options.Threads ?? CpuTopology.PhysicalCoreCount()),
            };
            // Quantized copies need somewhere to live even where the mapping would otherwise be used in place.
            if ((backend is CpuBackend && OperatingSystem.IsLinux()) || options.Quantization != WeightQuantization.None)
            {
                copies = new HugePageWeights(LlamaWeights.ArenaCapacity(file, options.Quantization), options.LoadProgress, (backend as CpuBackend)?.ThreadCount ?? 1);
            }

            Func<GgmlType, bool> supported = device is not null ? IlgpuForward.Supports : backend is CpuBackend ? CpuBackend.Supports : RowDecoder.IsSupported;
            var blockSize = options.KvBlockSize;
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
            var kvType = KvCacheDataTypeSelection.Resolve(options.KvCacheDataType, kind);

            // Before the copies: the fingerprint's samples fault pages of the mapping in (whole page-cache folios, not
            // just the 4 KiB asked: ~170 MiB for an 8B file), which each tensor's copy then drops with its range;
            // taken after them, those pages came on top of the full arena and set the load's peak resident memory.
            var fingerprint = ModelIdentity.Fingerprint(file, hp, blockSize, options.Quantization, kvType);
            var weights = LlamaWeights.Load(file, hp, supported, copies, options.Quantization, interleave: backend is CpuBackend);
            var blocks = options.KvBlockCount ?? ((Math.Min(hp.ContextLength, 4096) + blockSize - 1) / blockSize);
            var kv = new PagedKvStorage(hp.LayerCount, device is null ? blocks : 1, blockSize, hp.KvHeadCount, hp.HeadDimension, kvType);
            if (device is null && copies is null && options.LoadProgress is { } progress)
            {
                Prefault(file, progress);
            }

            var model = new LlamaModel(file, hp, weights, backend, kv) { Fingerprint = fingerprint, _weightCopies = copies };
            if (copies is not null)
            {
                // The vectors read the mapping again after the copies; none of it is needed now.
                ReleaseMappedTensors(file);
            }

            copies = null;
            if (device is not null)
            {
                if (options.TensorParallel == 1)
                {
                    model._device = new IlgpuForward(device, hp, weights, model._rope, blocks, blockSize, options.LoadProgress, ownsDevice: true, memoryUtilization: options.GpuMemoryUtilization, kvDataType: kvType);
                    device = null;
                }
                else
                {
                    var first = device;
                    device = null; // Open owns it from here, and disposes it if it fails
                    model._device = IlgpuTensorParallel.Open(first, kind, options.TensorParallel, hp, weights, model._rope, blocks, blockSize, options.LoadProgress, options.GpuMemoryUtilization, kvType);
                }
            }
            else
            {
                options.LoadProgress?.Report(1);
            }

            return model;
        }
        catch
        {
            device?.Dispose();
            copies?.Dispose();
            backend?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs one step: appends every token's K and V to its sequence's blocks and writes the logits of
    /// <see cref="ForwardBatch.LogitTokenIndices"/>, in that order, to <paramref name="logits"/>.
    /// </summary>
    /// <param name="batch">The tokens.</param>
    /// <param name="logits">Output. // (batch.LogitTokenIndices.Length, vocab)</param>
    public void Forward(ForwardBatch batch, Span<float> logits)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var hp = HyperParameters;
        var n = batch.Count;
        var m = batch.LogitTokenIndices.Length;
        var embd = hp.EmbeddingLength;
        var vocab = hp.VocabularySize;
        if (logits.Length < m * vocab)
        {
            throw new ArgumentException($"logits holds {logits.Length} floats; {m} rows of {vocab} are needed", nameof(logits));
        }

        foreach (var token in batch.Tokens)
        {
            if ((uint)token >= (uint)vocab)
            {
                throw new ArgumentException($"token id {token} is outside the vocabulary of {vocab}", nameof(batch));
            }
        }

        if (_device is not null)
        {
            _device.Forward(batch, logits);
            return;
        }

        if (_scratch is null || _scratch.Capacity < n)
        {
            _scratch = new ForwardScratch(hp, n);
        }

        var s = _scratch;
        var b = _backend;
        var eps = hp.RmsNormEpsilon;
        b.Embed(_weights.TokenEmbedding, batch.Tokens, s.Residual); // (n, n_embd)
        for (var l = 0; l < hp.LayerCount; l++)
        {
            var w = _weights.Layers[l];
            b.RmsNorm(s.Residual, n, embd, w.AttentionNorm, eps, s.Normed); // (n, n_embd)
            b.MatMul(s.Normed, n, new(w.Query, s.Query), new(w.Key, s.Key), new(w.Value, s.Value));
            if (hp.HasQkvBias)
            {
                b.AddBias(s.Query, n, w.QueryBias!);
                b.AddBias(s.Key, n, w.KeyBias!);
                b.AddBias(s.Value, n, w.ValueBias!);
            }

            b.Rope(s.Query, n, hp.HeadCount, hp.HeadDimension, batch.Positions, _rope); // (n, n_head, head_dim)
            b.Rope(s.Key, n, hp.KvHeadCount, hp.HeadDimension, batch.Positions, _rope); // (n, n_head_kv, head_dim)
            b.StoreKv(s.Key, s.Value, batch, _kv, l);
            b.Attention(s.Query, batch, _kv, l, hp.HeadCount, s.Attention); // (n, n_head, head_dim)
            b.MatMul(s.Attention, n, new MatMulTarget(w.Output, s.Projected)); // (n, n_embd)
            b.Add(s.Residual, s.Projected, n * embd);
            b.RmsNorm(s.Residual, n, embd, w.FeedForwardNorm, eps, s.Normed); // (n, n_embd)
            b.MatMul(s.Normed, n, new(w.Gate, s.Gate), new(w.Up, s.Up)); // (n, n_ff) each
            b.SwiGlu(s.Gate, s.Up, n * hp.FeedForwardLength, s.Hidden); // (n, n_ff)
            b.MatMul(s.Hidden, n, new MatMulTarget(w.Down, s.Projected)); // (n, n_embd)
            b.Add(s.Residual, s.Projected, n * embd);
        }

        if (m == 0)
        {
            return;
        }

        if (_logitInput.Length < m * embd)
        {
            _logitInput = new float[m * embd];
            _logitNormed = new float[m * embd];
            _logits = new float[m * vocab];
        }

        for (var i = 0; i < m; i++)
        {
            s.Residual.AsSpan(batch.LogitTokenIndices[i] * embd, embd).CopyTo(_logitInput.AsSpan(i * embd)); // (m, n_embd)
        }

        b.RmsNorm(_logitInput, m, embd, _weights.OutputNorm, eps, _logitNormed); // (m, n_embd)
        b.MatMul(_logitNormed, m, new MatMulTarget(_weights.Output, _logits)); // (m, vocab)
        _logits.AsSpan(0, m * vocab).CopyTo(logits);
    }

    /// <summary>
    /// Runs one step like <see cref="Forward"/> and returns the greedy (argmax) token of each logit row. On a GPU
    /// backend the argmax runs on the device and only these ids are copied back.
    /// </summary>
    public int[] ForwardGreedy(ForwardBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var vocab = HyperParameters.VocabularySize;
        if (_device is not null)
        {
            foreach (var token in batch.Tokens)
            {
                if ((uint)token >= (uint)vocab)
                {
                    throw new ArgumentException($"token id {token} is outside the vocabulary of {vocab}", nameof(batch));
                }
            }

            return _device.ForwardGreedy(batch);
        }

        var m = batch.LogitTokenIndices.Length;
        var logits = new float[m * vocab];
        Forward(batch, logits);
        var ids = new int[m];
        for (var i = 0; i < m; i++)
        {
            ids[i] = _backend.ArgMax(logits.AsSpan(i * vocab, vocab));
        }

        return ids;
    }

    /// <summary>Whether <see cref="ForwardSampled"/> draws on an accelerator (an ILGPU backend); else it is <see cref="Forward"/> with every row copied.</summary>
    internal bool SamplesOnDevice => _device is not null;

    /// <summary>
    /// Runs one step like <see cref="Forward"/>; on an ILGPU backend each of <paramref name="jobs"/> is drawn on the
    /// device into <paramref name="tokens"/> and only the logit rows in <paramref name="hostRows"/> are copied to
    /// their places in <paramref name="logits"/>. Without a device this throws: the caller samples on the host.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model runs on a host backend (<see cref="SamplesOnDevice"/> is false).</exception>
    internal void ForwardSampled(ForwardBatch batch, IReadOnlyList<SamplingJob> jobs, Span<int> tokens, ReadOnlySpan<int> hostRows, Span<float> logits)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(jobs);
        if (_device is null)
        {
            throw new InvalidOperationException("device sampling needs an ILGPU backend");
        }

        var vocab = HyperParameters.VocabularySize;
        foreach (var token in batch.Tokens)
        {
            if ((uint)token >= (uint)vocab)
            {
                throw new ArgumentException($"token id {token} is outside the vocabulary of {vocab}", nameof(batch));
            }
        }

        _device.ForwardSampled(batch, jobs, tokens, hostRows, logits);
    }

    /// <summary>Index of the largest logit in <paramref name="logits"/>.</summary>
    public int ArgMax(ReadOnlySpan<float> logits) => _backend.ArgMax(logits);

    /// <summary>Closes the backend and unmaps the file.</summary>
    public void Dispose()
    {
        _device?.Dispose();
        _backend.Dispose();
        _weightCopies?.Dispose();
        _source.Dispose();
    }

    private static unsafe void Prefault(ModelTensorSource file, IProgress<double> progress)
    {
        long total = 0;
        foreach (var t in file.Tensors)
        {
            total += t.ByteSize;
        }

        long done = 0;
        var lastReported = -1.0;
        var sink = 0;
        foreach (var t in file.Tensors)
        {
            var p = t.Data;
            for (long i = 0; i < t.ByteSize; i += 4096)
            {
                sink += p[i];
            }

            done += t.ByteSize;
            var fraction = total == 0 ? 1 : (double)done / total;
            if (fraction - lastReported >= 0.01)
            {
                progress.Report(fraction);
                lastReported = fraction;
            }
        }

        GC.KeepAlive(sink);
        progress.Report(1);
    }
}
