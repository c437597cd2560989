using Fathom.Engine.Quantization.Checkpoints;
using Fathom.Gguf;

namespace Fathom.Engine.Model;

/// <summary>
/// The tensors of a model, by GGUF name, from wherever they are stored: a GGUF file (<see cref="GgufTensorSource"/>)
/// or a Hugging Face model directory (<see cref="HuggingFaceTensorSource"/>). Owns the mappings.
/// </summary>
internal abstract class ModelTensorSource : IDisposable
{
    /// <summary>The path the model was opened from (a GGUF file or a model directory).</summary>
    public abstract string Path { get; }

    /// <summary>The files that hold the tensors.</summary>
    public abstract IReadOnlyList<string> FilePaths { get; }

    public abstract IReadOnlyList<ModelTensor> Tensors { get; }

    /// <summary>The GGUF file, when the model is one (its metadata holds the tokenizer); null for a directory.</summary>
    public virtual GgufFile? Gguf => null;

    /// <summary>The tensor with GGUF name <paramref name="name"/>, or null.</summary>
    public abstract ModelTensor? Find(string name);

    /// <summary>
    /// The matrix with GGUF name <paramref name="name"/> (<paramref name="columns"/> inputs, <paramref name="rows"/>
    /// outputs) read from a quantized checkpoint's own tensors into an engine layout, or null when it is stored as a
    /// plain tensor (<see cref="Find"/>). The source keeps the repacked data alive.
    /// </summary>
    public virtual RepackedWeight? Repack(string name, long columns, long rows) => null;

    /// <summary>What identifies the checkpoint's quantization (its <c>quantization_config</c>), for the fingerprint; null when none.</summary>
    public virtual string? QuantizationIdentity => null;

    /// <summary>The model's shape, from the GGUF metadata or config.json.</summary>
    /// <exception cref="ModelLoadException">The values are unsupported or inconsistent.</exception>
    public abstract LlamaHyperParameters ReadHyperParameters();

    /// <summary>Opens a GGUF file, or the Hugging Face model directory at <paramref name="path"/>.</summary>
    /// <exception cref="GgufFormatException">The GGUF file is malformed.</exception>
    /// <exception cref="Safetensors.SafetensorsFormatException">A file of the directory is malformed or inconsistent.</exception>
    public static ModelTensorSource Open(string path) =>
        Directory.Exists(path) ? HuggingFaceTensorSource.OpenDirectory(path) : new GgufTensorSource(GgufFile.Open(path));

    public abstract void Dispose();
}
