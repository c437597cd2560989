namespace Fathom.Planner;

/// <summary>
/// The planner was asked about something it does not know or cannot read: an unknown model, GPU or weight
/// format, or a malformed config or calibration file. The message is one line, fit to show a user.
/// </summary>
public sealed class PlannerInputException : Exception
{
    /// <summary>Creates the exception with a one-line message.</summary>
    public PlannerInputException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a one-line message and the error that caused it.</summary>
    public PlannerInputException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a generic message.</summary>
    public PlannerInputException() : base("invalid planner input")
    {
    }
}
