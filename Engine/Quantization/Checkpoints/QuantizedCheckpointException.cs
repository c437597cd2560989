namespace Fathom.Engine.Quantization.Checkpoints;

/// <summary>
/// A quantized checkpoint cannot be loaded: an unsupported <c>quantization_config</c>, or a quantized tensor whose
/// dtype, shape or values do not follow its published format. Names the file or tensor and the field.
/// </summary>
public sealed class QuantizedCheckpointException : Exception
{
    /// <summary>Creates the exception for <paramref name="field"/> of <paramref name="source"/>.</summary>
    /// <param name="source">The file (<c>config.json</c>) or tensor name at fault.</param>
    /// <param name="field">The field, e.g. <c>quantization_config.quant_method</c> or <c>qzeros.shape</c>.</param>
    /// <param name="reason">What is wrong.</param>
    public QuantizedCheckpointException(string source, string field, string reason)
        : base($"{source}, {field}: {reason}")
    {
        Source = source;
        Field = field;
        Reason = reason;
    }

    /// <summary>Standard constructor; prefer the one that names the source and field.</summary>
    public QuantizedCheckpointException()
        : this("checkpoint", "", "invalid quantized checkpoint")
    {
    }

    /// <summary>Standard constructor; prefer the one that names the source and field.</summary>
    public QuantizedCheckpointException(string message)
        : this("checkpoint", "", message)
    {
    }

    /// <summary>Standard constructor; prefer the one that names the source and field.</summary>
    public QuantizedCheckpointException(string message, Exception innerException)
        : base(message, innerException)
    {
        Source = "checkpoint";
        Field = "";
        Reason = message;
    }

    /// <summary>The file or tensor at fault.</summary>
    public new string Source { get; }

    /// <summary>The field at fault.</summary>
    public string Field { get; }

    /// <summary>What is wrong, without the source and field.</summary>
    public string Reason { get; }
}
