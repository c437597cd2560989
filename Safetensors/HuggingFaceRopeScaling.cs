namespace Fathom.Safetensors;

/// <summary>The <c>rope_scaling</c> object of config.json.</summary>
/// <param name="Type"><c>linear</c> or <c>llama3</c>.</param>
/// <param name="Factor"><c>factor</c>.</param>
/// <param name="LowFrequencyFactor"><c>low_freq_factor</c> (llama3).</param>
/// <param name="HighFrequencyFactor"><c>high_freq_factor</c> (llama3).</param>
/// <param name="OriginalMaxPositionEmbeddings"><c>original_max_position_embeddings</c> (llama3).</param>
public sealed record HuggingFaceRopeScaling(string Type, float Factor, float LowFrequencyFactor, float HighFrequencyFactor, int OriginalMaxPositionEmbeddings);
