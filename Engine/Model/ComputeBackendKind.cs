namespace Fathom.Engine.Model;

/// <summary>Which backend runs the forward pass.</summary>
public enum ComputeBackendKind
{
    /// <summary>Multi-threaded SIMD CPU backend (the default).</summary>
    Cpu,

    /// <summary>Scalar reference backend: slow, the oracle for tests.</summary>
    Reference,
}
