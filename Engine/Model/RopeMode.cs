namespace Fathom.Engine.Model;

/// <summary>How rotary position embedding pairs up the dimensions of a head.</summary>
public enum RopeMode
{
    /// <summary>GGUF's <c>llama</c> convention: adjacent pairs <c>(2i, 2i+1)</c>.</summary>
    Normal,

    /// <summary>GPT-NeoX convention (<c>qwen2</c>): pairs <c>(i, i + d/2)</c>.</summary>
    NeoX,
}
