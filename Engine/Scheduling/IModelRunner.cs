namespace Fathom.Engine.Scheduling;

/// <summary>Runs one batched forward step of the model over the paged KV cache.</summary>
public interface IModelRunner
{
    /// <summary>Logits per row.</summary>
    int VocabSize { get; }

    /// <summary>
    /// Performs <see cref="SchedulerOutput.BlockCopies"/> and <see cref="SchedulerOutput.BlockLoads"/>, then
    /// computes every token of the step — writing its K/V at its position through its sequence's block table
    /// and attending to all earlier positions of that sequence — and writes the logits of each
    /// <see cref="SchedulerOutput.LogitsIndices"/> token into <paramref name="logits"/>.
    /// </summary>
    /// <param name="batch">The step.</param>
    /// <param name="logits">Destination. // (n_logits, n_vocab)</param>
    void Execute(SchedulerOutput batch, Span<float> logits);
}
