namespace Fathom.Engine.Scheduling;

/// <summary>Where in a step the per-sequence work runs that <see cref="EngineHostOptions.FaultInjector"/> can fail.</summary>
internal enum FaultPoint
{
    /// <summary>Drawing the sequence's next token.</summary>
    Sample,

    /// <summary>Turning the sequence's new token into text and matching stop strings.</summary>
    Detokenize,
}
