using System.Text.Json;
using Fathom.Gguf;

namespace Fathom.Engine.Quantization.Checkpoints;

/// <summary>
/// Reads the linear layers of a quantized checkpoint (<see cref="CheckpointQuantization"/>) into engine layouts.
/// The directory loader calls <see cref="FromConfig"/> when <c>config.json</c> has a <c>quantization_config</c>,
/// then <see cref="Repack"/> for every linear module before falling back to its float <c>.weight</c>.
/// </summary>
public sealed class QuantizedCheckpoint
{
    /// <summary>Wraps a parsed configuration.</summary>
    public QuantizedCheckpoint(CheckpointQuantization config)
    {
        Config = config;
    }

    /// <summary>The checkpoint's quantization.</summary>
    public CheckpointQuantization Config { get; }

    /// <summary>Reads <c>quantization_config</c> from <paramref name="configJson"/> (the whole <c>config.json</c>); null when absent.</summary>
    /// <exception cref="QuantizedCheckpointException">The method is unknown (the message lists the supported ones) or a field is wrong.</exception>
    public static QuantizedCheckpoint? FromConfig(JsonElement configJson, string path) =>
        configJson.ValueKind == JsonValueKind.Object && configJson.TryGetProperty("quantization_config", out var q) && q.ValueKind != JsonValueKind.Null
            ? new QuantizedCheckpoint(CheckpointQuantization.Parse(q, path))
            : null;

    /// <summary>
    /// The linear module <paramref name="module"/> (e.g. <c>model.layers.0.self_attn.q_proj</c>, weights [out, in])
    /// repacked, or null when the checkpoint stores it unquantized (an ignored module, or one with a float <c>.weight</c>).
    /// </summary>
    /// <exception cref="QuantizedCheckpointException">A tensor of the module is missing or malformed.</exception>
    public RepackedWeight? Repack(string module, int inFeatures, int outFeatures, Func<string, CheckpointTensor?> find)
    {
        ArgumentNullException.ThrowIfNull(find);
        if (Config.IsIgnored(module))
        {
            return null;
        }

        if (Config.IsFp8)
        {
            if (find(module + ".weight") is not { DType: "F8_E4M3" })
            {
                return null;
            }

            return new(CheckpointTypes.Fp8Rows, Fp8Checkpoint.Repack(find, module, outFeatures, inFeatures), null);
        }

        if (find(module + ".qweight") is null)
        {
            return null;
        }

        if (Config.Method == CheckpointQuantizationMethod.Awq)
        {
            var group = Config.GroupSize == -1 ? inFeatures : Config.GroupSize;
            return new(CheckpointTypes.Int4ZeroPoint, AwqGemm.Repack(find, module, outFeatures, inFeatures, group), null);
        }

        var (data, order) = Gptq.Repack(find, module, outFeatures, inFeatures, Config.GroupSize, Config.ZeroOffset);
        return new(CheckpointTypes.Int4ZeroPoint, data, order);
    }

    /// <summary>The published formula applied to the module's tensors (the oracle for tests): weights [out, in], or null as for <see cref="Repack"/>.</summary>
    public float[]? Dequantize(string module, int inFeatures, int outFeatures, Func<string, CheckpointTensor?> find)
    {
        ArgumentNullException.ThrowIfNull(find);
        if (Config.IsIgnored(module))
        {
            return null;
        }

        if (Config.IsFp8)
        {
            return find(module + ".weight") is { DType: "F8_E4M3" } ? Fp8Checkpoint.Dequantize(find, module, outFeatures, inFeatures) : null;
        }

        if (find(module + ".qweight") is null)
        {
            return null;
        }

        var group = Config.GroupSize == -1 ? inFeatures : Config.GroupSize;
        return Config.Method == CheckpointQuantizationMethod.Awq
            ? AwqGemm.Dequantize(find, module, outFeatures, inFeatures, group)
            : Gptq.Dequantize(find, module, outFeatures, inFeatures, Config.GroupSize, Config.ZeroOffset);
    }

    /// <summary>The engine type a quantized module of this checkpoint becomes.</summary>
    public GgmlType EngineType => Config.IsFp8 ? CheckpointTypes.Fp8Rows : CheckpointTypes.Int4ZeroPoint;
}
