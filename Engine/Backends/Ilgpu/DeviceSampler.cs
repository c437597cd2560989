using Fathom.Engine.Sampling;
using ILGPU;
using ILGPU.Runtime;
using static Fathom.Engine.Backends.Ilgpu.SamplingKernels;

namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// Runs <see cref="SamplingJob"/>s on the device's logit rows: per step, one upload of the jobs' parameters (56
/// bytes each) and their adjusted tokens (20 bytes per distinct penalized or biased token), one launch, and one
/// download of 4 bytes per job. Reuses its buffers (they grow, never shrink); one per device, not thread-safe.
/// </summary>
internal sealed class DeviceSampler(Accelerator accelerator, SamplingKernels kernels) : IDisposable
{
    private MemoryBuffer1D<DeviceSampleRow, Stride1D.Dense>? _rows;
    private MemoryBuffer1D<DeviceTokenAdjustment, Stride1D.Dense>? _adjustments;
    private MemoryBuffer1D<float, Stride1D.Dense>? _scratch; // (n_jobs, vocab): the processed rows
    private MemoryBuffer1D<int, Stride1D.Dense>? _result;

    /// <summary>Draws each job's token from <paramref name="logits"/> into <paramref name="tokens"/>. // logits (n_logits, vocab)</summary>
    public void Sample(ArrayView<float> logits, int vocab, IReadOnlyList<SamplingJob> jobs, Span<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        if (jobs.Count == 0)
        {
            return;
        }

        var rows = new DeviceSampleRow[jobs.Count];
        var adjustments = new List<DeviceTokenAdjustment>();
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
        HostCopy.ToHost(accelerator, result, tokens[..rows.Length]);
    }

    public void Dispose()
    {
        _rows?.Dispose();
        _adjustments?.Dispose();
        _scratch?.Dispose();
        _result?.Dispose();
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
