using Fathom.Gguf;
using Fathom.Safetensors;

namespace Fathom.Engine.Model;

/// <summary>
/// A Hugging Face model directory: <c>config.json</c> and its safetensors checkpoint, mapped, with tensors renamed
/// to GGUF names and dimensions reversed to GGUF order (a row-major [rows, columns] matrix is GGUF's
/// [columns, rows]; the bytes are the same). Q and K stay as Transformers stores them, for the rotate-half
/// (<see cref="RopeMode.NeoX"/>) rotation, which gives the same numbers as GGUF's permuted rows with the
/// interleaved one.
/// </summary>
internal sealed unsafe class HuggingFaceTensorSource : ModelTensorSource
{
    private readonly SafetensorsCheckpoint _checkpoint;
    private readonly Dictionary<string, ModelTensor> _byName;

    private HuggingFaceTensorSource(string directory, HuggingFaceConfig config, SafetensorsCheckpoint checkpoint)
    {
        Path = directory;
        Config = config;
        _checkpoint = checkpoint;
        var tensors = new List<ModelTensor>();
        foreach (var t in checkpoint.Tensors)
        {
            var name = HuggingFaceTensorNames.ToGguf(t.Name);
            if (name is null || (name == "output.weight" && config.TieWordEmbeddings))
            {
                continue; // not a tensor the engine runs (rotary caches, a tied lm_head copy)
            }

            var file = checkpoint.FileOf(t);
            if (ToGgml(t.DType) is not { } type)
            {
                throw new ModelLoadException(file, $"tensor '{t.Name}' has dtype {t.DType}; unquantized weights must be F32, F16 or BF16");
            }

            if (t.Shape.Length is 0 or > 2 || t.Shape.Any(d => d == 0))
            {
                throw new ModelLoadException(file, $"tensor '{t.Name}' has shape {t.ShapeText}; weights are vectors or matrices with no empty dimension");
            }

            tensors.Add(new ModelTensor(name, type, t.Shape.Reverse().ToArray(), checkpoint.GetTensorPointer(t), t.ByteSize, t.Name, file));
        }

        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        if (!config.TieWordEmbeddings && !_byName.ContainsKey("output.weight"))
        {
            throw new ModelLoadException(config.FilePath, "tie_word_embeddings is false, but no file of the checkpoint holds lm_head.weight");
        }
    }

    /// <summary>The directory's config.json.</summary>
    public HuggingFaceConfig Config { get; }

    public override string Path { get; }

    public override IReadOnlyList<string> FilePaths => [Config.FilePath, .. _checkpoint.FilePaths];

    public override IReadOnlyList<ModelTensor> Tensors { get; }

    /// <summary>The checkpoint's own tensors, names and dtypes as stored.</summary>
    public SafetensorsCheckpoint Checkpoint => _checkpoint;

    /// <summary>Opens the model directory at <paramref name="directory"/>.</summary>
    /// <exception cref="SafetensorsFormatException">config.json or a safetensors file is missing, malformed or inconsistent.</exception>
    /// <exception cref="ModelLoadException">The tensors do not describe a model Fathom can run.</exception>
    public static HuggingFaceTensorSource OpenDirectory(string directory)
    {
        var config = HuggingFaceConfig.Read(directory);
        var checkpoint = SafetensorsCheckpoint.Open(directory);
        try
        {
            return new HuggingFaceTensorSource(directory, config, checkpoint);
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    public override ModelTensor? Find(string name) => _byName.GetValueOrDefault(name);

    public override LlamaHyperParameters ReadHyperParameters() => HuggingFaceHyperParameters.From(Config);

    public override void Dispose() => _checkpoint.Dispose();

    /// <summary>The ggml type of a float dtype; null for the others.</summary>
    public static GgmlType? ToGgml(SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F32 => GgmlType.F32,
        SafetensorsDType.F16 => GgmlType.F16,
        SafetensorsDType.BF16 => GgmlType.BF16,
        _ => null,
    };
}
