using Fathom.Engine.Sampling;

namespace Fathom.Engine.Scheduling;

/// <summary>
/// A runner that can draw tokens where the logits are (an accelerator), so that a step returns token ids instead of
/// full-vocabulary rows. <see cref="EngineCore"/> sends it every draw that <see cref="SamplingJob.CanRunOnDevice"/>
/// allows and samples the rest on the host from the rows it asks to be copied.
/// </summary>
public interface IDeviceSamplingRunner : IModelRunner
{
    /// <summary>Whether draws run on the device now (false: use <see cref="IModelRunner.Execute"/> and the host sampler).</summary>
    bool SamplesOnDevice { get; }

    /// <summary>
    /// Does what <see cref="IModelRunner.Execute"/> does, but draws each of <paramref name="jobs"/> on the device into
    /// <paramref name="tokens"/> (setting <see cref="SamplingJob.Logprob"/> and <see cref="SamplingJob.TopLogprobs"/> of
    /// the jobs that ask for logprobs) and writes only the logit rows listed in <paramref name="hostRows"/> into <paramref name="logits"/>.
    /// </summary>
    /// <param name="batch">The step.</param>
    /// <param name="jobs">The draws to make on the device.</param>
    /// <param name="tokens">Destination: one token per job. // (n_jobs)</param>
    /// <param name="hostRows">Logit rows to copy for the host sampler.</param>
    /// <param name="logits">Destination of those rows, at their row positions. // (n_logits, n_vocab)</param>
    void Execute(SchedulerOutput batch, IReadOnlyList<SamplingJob> jobs, Span<int> tokens, ReadOnlySpan<int> hostRows, Span<float> logits);
}
