using Fathom.Engine.Sampling;
using ILGPU;
using ILGPU.Runtime;
using static Fathom.Engine.Backends.Ilgpu.SamplingKernels;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// Runs <see cref="SamplingJob"/>s on the device's logit rows: per step, one upload of the jobs' parameters (64
/// bytes each) and their adjusted tokens (20 bytes per distinct penalized or biased token), one launch, and one
/// download of 4 bytes per job; when jobs ask for logprobs, a second launch and a download of 164 bytes per such job
/// (the chosen token's logprob and up to 20 top ids and logprobs), written back into the jobs
/// (<see cref="SamplingJob.Logprob"/>, <see cref="SamplingJob.TopLogprobs"/>). Reuses its buffers (they grow, never
/// shrink); one per device, not thread-safe.
/// </summary>
internal sealed class DeviceSampler(Accelerator accelerator, SamplingKernels kernels) : IDisposable
{
    private MemoryBuffer1D<DeviceSampleRow, Stride1D.Dense>? _rows;
    private MemoryBuffer1D<DeviceTokenAdjustment, Stride1D.Dense>? _adjustments;
    private MemoryBuffer1D<float, Stride1D.Dense>? _scratch; // (n_jobs, vocab): the processed rows
    private MemoryBuffer1D<int, Stride1D.Dense>? _result;
    private MemoryBuffer1D<float, Stride1D.Dense>? _logprobs; // (n_slots, LogprobStride)
    private MemoryBuffer1D<int, Stride1D.Dense>? _topIds;     // (n_slots, MaxTopLogprobs)

    /// <summary>
    /// Draws each job's token from <paramref name="logits"/> into <paramref name="tokens"/>, and sets the logprobs of
    /// the jobs that ask for them. // logits (n_logits, vocab)
    /// </summary>
    public void Sample(ArrayView<float> logits, int vocab, IReadOnlyList<SamplingJob> jobs, Span<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        if (jobs.Count == 0)
        {
            return;
        }

        var rows = new DeviceSampleRow[jobs.Count];
        var adjustments = new List<DeviceTokenAdjustment>();
        var slots = 0;
        for (var j = 0; j < rows.Length; j++)
        {
            var job = jobs[j];
            var p = job.Parameters;
            rows[j] = new DeviceSampleRow
            {
                LogitRow = job.LogitRow,
                Greedy = p.IsGreedy ? 1 : 0,
                Temperature = p.Temperature,
                TopK = p.TopK,
                TopP = p.TopP,
                MinP = p.MinP,
                RepetitionPenalty = p.RepetitionPenalty,
                FrequencyPenalty = p.FrequencyPenalty,
                PresencePenalty = p.PresencePenalty,
                AdjustmentStart = adjustments.Count,
                AdjustmentCount = job.Adjustments.Count,
                LogprobSlot = p.Logprobs ? slots++ : -1,
                TopLogprobs = p.Logprobs ? p.TopLogprobs : 0,
                Uniform = job.Uniform,
            };
            foreach (var a in job.Adjustments)
            {
                adjustments.Add(new DeviceTokenAdjustment { Token = a.Token, OutputCount = a.OutputCount, Repeated = a.Repeated ? 1 : 0, HasBias = a.HasBias ? 1 : 0, Bias = a.Bias });
            }
        }

        var rowView = Grow(ref _rows, rows.Length);
        var adjustmentView = Grow(ref _adjustments, Math.Max(1, adjustments.Count));
        var scratch = Grow(ref _scratch, (long)rows.Length * vocab);
        var result = Grow(ref _result, rows.Length);
        HostCopy.ToDevice(accelerator, rowView, rows);
        HostCopy.ToDevice<DeviceTokenAdjustment>(accelerator, adjustmentView, [.. adjustments]);
        kernels.Sample(logits, vocab, rowView, rows.Length, adjustmentView, scratch, result);
        if (slots > 0)
        {
            kernels.Logprobs(vocab, rowView, rows.Length, scratch, result, Grow(ref _logprobs, (long)slots * LogprobStride), Grow(ref _topIds, (long)slots * SamplingParams.MaxTopLogprobs));
        }

        HostCopy.ToHost(accelerator, result, tokens[..rows.Length]);
        if (slots > 0)
        {
            SetLogprobs(jobs, rows, vocab, slots);
        }
    }

    // Copies the logprob slots back and hands each job its own.
    private void SetLogprobs(IReadOnlyList<SamplingJob> jobs, DeviceSampleRow[] rows, int vocab, int slots)
    {
        var logprobs = new float[slots * LogprobStride];
        var topIds = new int[slots * SamplingParams.MaxTopLogprobs];
        HostCopy.ToHost<float>(accelerator, _logprobs!.View, logprobs);
        HostCopy.ToHost<int>(accelerator, _topIds!.View, topIds);
        for (var j = 0; j < rows.Length; j++)
        {
            var slot = rows[j].LogprobSlot;
            if (slot < 0)
            {
                continue;
            }

            var top = new TokenLogprob[Math.Min(rows[j].TopLogprobs, vocab)];
            for (var t = 0; t < top.Length; t++)
            {
                top[t] = new TokenLogprob(topIds[(slot * SamplingParams.MaxTopLogprobs) + t], logprobs[(slot * LogprobStride) + 1 + t]);
            }

            jobs[j].SetLogprobs(logprobs[slot * LogprobStride], top);
        }
    }

    public void Dispose()
    {
        _rows?.Dispose();
        _adjustments?.Dispose();
        _scratch?.Dispose();
        _result?.Dispose();
        _logprobs?.Dispose();
        _topIds?.Dispose();
    }

    private ArrayView<T> Grow<T>(ref MemoryBuffer1D<T, Stride1D.Dense>? buffer, long length)
        where T : unmanaged
    {
        if (buffer is null || buffer.Length < length)
        {
            buffer?.Dispose();
            buffer = null;
            buffer = accelerator.Allocate1D<T>(length);
        }

        return buffer.View.SubView(0, length);
    }
}
