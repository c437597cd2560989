namespace Fathom.Models;

/// <summary>What a <see cref="ModelReference"/> names.</summary>
public enum ModelReferenceKind
{
    /// <summary><c>hf.co/ORG/REPO[:QUANT]</c>: one GGUF model (possibly split into parts) from a hub repository.</summary>
    GgufRepository,

    /// <summary><c>ORG/REPO</c>: a safetensors model directory (config, tokenizer and weight files).</summary>
    SafetensorsRepository,

    /// <summary>An <c>http(s)://</c> address of one file.</summary>
    Url,
}
