namespace Fathom.Engine.KvCache;

/// <summary>A block the model runner fills from the second tier (<see cref="IKvBlockTier"/>) before the step's forward pass.</summary>
/// <param name="Hash">The key the tier holds the K/V under.</param>
/// <param name="Block">The physical block to load into.</param>
public readonly record struct KvBlockLoad(BlockHash Hash, int Block);
