namespace Fathom.Models;

/// <summary>Where a pull is.</summary>
public enum PullStage
{
    /// <summary>Waiting for another process that pulls the same model.</summary>
    Waiting,

    /// <summary>Bytes are arriving.</summary>
    Downloading,

    /// <summary>The file is complete and its hash is being checked.</summary>
    Verifying,

    /// <summary>Every file is complete and checked.</summary>
    Complete,
}
