namespace Fathom.Models;

/// <summary>A model that is complete in the store.</summary>
/// <param name="Reference">The reference it was pulled as (with its quantization tag resolved).</param>
/// <param name="Directory">Its folder in the store.</param>
/// <param name="Path">What to load: the GGUF file (the first part of a split model) or the safetensors folder.</param>
/// <param name="SizeBytes">Bytes of all its files.</param>
/// <param name="Pulled">When the pull completed.</param>
public sealed record StoredModel(string Reference, string Directory, string Path, long SizeBytes, DateTimeOffset Pulled);
