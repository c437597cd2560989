using System.Text.Json;
using Fathom.Engine.Quantization.Checkpoints;
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
    private readonly QuantizedCheckpoint? _quantized;
    private readonly List<RepackedWeight> _repacked = [];

    private HuggingFaceTensorSource(string directory, HuggingFaceConfig config, SafetensorsCheckpoint checkpoint)
    {
        Path = directory;
        Config = config;
        _checkpoint = checkpoint;
        _quantized = ReadQuantization(config);
        var tensors = new List<ModelTensor>();
        foreach (var t in checkpoint.Tensors)
        {
            var name = HuggingFaceTensorNames.ToGguf(t.Name);
            if (name is null || (name == "output.weight" && config.TieWordEmbeddings))
            {
                continue; // not a tensor the engine runs (rotary caches, a tied lm_head copy)
            }

            var file = checkpoint.FileOf(t);
            if (_quantized is { Config.IsFp8: true } && t.DType == SafetensorsDType.F8_E4M3)
            {
                continue; // an FP8 linear layer: Repack reads it with its scale
            }

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
        if (!config.TieWordEmbeddings && !_byName.ContainsKey("output.weight") && checkpoint.FindTensor("lm_head.weight") is null && checkpoint.FindTensor("lm_head.qweight") is null)
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

    public override string? QuantizationIdentity => Config.QuantizationConfigJson;

    public override RepackedWeight? Repack(string name, long columns, long rows)
    {
        if (_quantized is null || HuggingFaceTensorNames.FromGguf(name) is not { } hfName || !hfName.EndsWith(".weight", StringComparison.Ordinal))
        {
            return null;
        }

        var module = hfName[..^".weight".Length];
        try
        {
            var repacked = _quantized.Repack(module, checked((int)columns), checked((int)rows), Tensor);
            if (repacked is not null)
            {
                _repacked.Add(repacked); // the matrix points into its pinned array
            }

            return repacked;
        }
        catch (QuantizedCheckpointException e)
        {
            var info = _checkpoint.FindTensor(e.Source);
            throw new SafetensorsFormatException(info is null ? Path : _checkpoint.FileOf(info), $"tensor '{e.Source}'.{e.Field}", e.Reason, e);
        }
    }

    private CheckpointTensor? Tensor(string name) =>
        _checkpoint.FindTensor(name) is { } info
            ? new CheckpointTensor(info.Name, info.DType.ToString(), info.Shape, _checkpoint.GetTensorPointer(info), info.ByteSize)
            : null;

    private static QuantizedCheckpoint? ReadQuantization(HuggingFaceConfig config)
    {
        if (config.QuantizationConfigJson is not { } json)
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        try
        {
            return new QuantizedCheckpoint(CheckpointQuantization.Parse(document.RootElement, config.FilePath));
        }
        catch (QuantizedCheckpointException e)
        {
            throw new SafetensorsFormatException(config.FilePath, e.Field, e.Reason, e);
        }
    }

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
