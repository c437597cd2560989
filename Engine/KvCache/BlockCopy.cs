namespace Fathom.Engine.KvCache;

/// <summary>A copy-on-write the model runner performs before the step's forward pass: all K/V slots of <paramref name="Source"/> into <paramref name="Destination"/>.</summary>
/// <param name="Source">The shared block.</param>
/// <param name="Destination">The sequence's private copy.</param>
public readonly record struct BlockCopy(int Source, int Destination);
