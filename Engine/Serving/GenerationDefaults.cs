namespace Fathom.Engine.Serving;

/// <summary>Sampling defaults a model ships (<c>generation_config.json</c>), used where a request leaves the field out.</summary>
/// <param name="Temperature"><c>temperature</c> (0 when <c>do_sample</c> is false), or null.</param>
/// <param name="TopP"><c>top_p</c>, or null.</param>
/// <param name="TopK"><c>top_k</c>, or null.</param>
public sealed record GenerationDefaults(float? Temperature, float? TopP, int? TopK);
