namespace Fathom.Engine.Backends.Ilgpu;

/// <summary>
/// A model cannot be split over the requested number of tensor-parallel devices: the device count does not divide
/// the attention heads, the KV heads or the feed-forward width, or a quantized matrix would have to be cut inside a
/// block. A <see cref="NotSupportedException"/>, so callers that report those as one line report this too.
/// </summary>
public sealed class TensorParallelSplitException : NotSupportedException
{
    /// <summary>Creates the exception with a one-line message naming the tensor and the boundary it misses.</summary>
    public TensorParallelSplitException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a one-line message and the underlying failure.</summary>
    public TensorParallelSplitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public TensorParallelSplitException()
        : base("the model cannot be split over the requested tensor-parallel devices")
    {
    }
}
