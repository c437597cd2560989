using System.Text.Json;

namespace Fathom.Engine.Quantization.Checkpoints;

/// <summary>
/// A checkpoint's <c>quantization_config</c> (from <c>config.json</c>), reduced to what decoding needs.
/// </summary>
/// <param name="Method">The format.</param>
/// <param name="Bits">Bits per weight (8 for FP8, 4 for AWQ/GPTQ).</param>
/// <param name="GroupSize">Input columns sharing a scale (AWQ/GPTQ); −1 means the whole row; 0 for FP8.</param>
/// <param name="Symmetric">GPTQ <c>sym</c>: every zero point is 8.</param>
/// <param name="DescAct">GPTQ <c>desc_act</c>: groups follow <c>g_idx</c> rather than column order.</param>
/// <param name="ZeroOffset">What GPTQ adds to a stored zero point: 1 for the original (<c>gptq</c>, v1) format, 0 for <c>gptq_v2</c>.</param>
/// <param name="Ignored">Module names (or <c>re:</c> patterns) kept in float: compressed-tensors <c>ignore</c>, FBGEMM <c>modules_to_not_convert</c>.</param>
public sealed record CheckpointQuantization(
    CheckpointQuantizationMethod Method, int Bits, int GroupSize, bool Symmetric, bool DescAct, int ZeroOffset, IReadOnlyList<string> Ignored)
{
    /// <summary>The <c>quant_method</c> values Fathom reads, as listed in errors.</summary>
    public static IReadOnlyList<string> SupportedMethods { get; } = ["compressed-tensors (float-quantized FP8)", "fbgemm_fp8", "fp8", "awq (GEMM)", "gptq"];

    /// <summary>Whether the method stores FP8 e4m3 weights.</summary>
    public bool IsFp8 => Method is CheckpointQuantizationMethod.CompressedTensorsFp8 or CheckpointQuantizationMethod.FbgemmFp8 or CheckpointQuantizationMethod.Fp8;

    /// <summary>Whether the linear module <paramref name="module"/> (e.g. <c>lm_head</c>) is left unquantized.</summary>
    public bool IsIgnored(string module)
    {
        foreach (var entry in Ignored)
        {
            if (entry.StartsWith("re:", StringComparison.Ordinal)
                ? System.Text.RegularExpressions.Regex.IsMatch(module, entry[3..], System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1))
                : module == entry || module.EndsWith("." + entry, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Reads <paramref name="config"/> (the <c>quantization_config</c> object) of the file <paramref name="path"/>.</summary>
    /// <exception cref="QuantizedCheckpointException">The method is unknown or a field is missing, mistyped or unsupported.</exception>
    public static CheckpointQuantization Parse(JsonElement config, string path)
    {
        const string Prefix = "quantization_config.";
        if (config.ValueKind != JsonValueKind.Object)
        {
            throw new QuantizedCheckpointException(path, "quantization_config", "is not an object");
        }

        var method = String(config, "quant_method", path) ?? throw new QuantizedCheckpointException(path, Prefix + "quant_method", "is missing");
        switch (method.ToLowerInvariant())
        {
            case "compressed-tensors":
                return CompressedTensors(config, path);
            case "fbgemm_fp8":
                return new(CheckpointQuantizationMethod.FbgemmFp8, 8, 0, true, false, 0, Strings(config, "modules_to_not_convert", path));
            case "fp8":
                if (config.TryGetProperty("weight_block_size", out var block) && block.ValueKind != JsonValueKind.Null)
                {
                    throw new QuantizedCheckpointException(path, Prefix + "weight_block_size", "block-wise FP8 scales are not supported; per-tensor and per-channel scales are");
                }

                return new(CheckpointQuantizationMethod.Fp8, 8, 0, true, false, 0, Strings(config, "modules_to_not_convert", path));
            case "awq":
            {
                var version = String(config, "version", path) ?? "gemm";
                if (!version.Equals("gemm", StringComparison.OrdinalIgnoreCase))
                {
                    throw new QuantizedCheckpointException(path, Prefix + "version", $"AWQ version '{version}' is not supported; only 'gemm' is");
                }

                if (Bool(config, "zero_point", path) is false)
                {
                    throw new QuantizedCheckpointException(path, Prefix + "zero_point", "AWQ without zero points is not supported");
                }

                var bits = Int(config, "bits", path) ?? Int(config, "w_bit", path) ?? 4;
                var group = Int(config, "group_size", path) ?? Int(config, "q_group_size", path) ?? 128;
                CheckBits(bits, path);
                CheckGroup(group, path);
                return new(CheckpointQuantizationMethod.Awq, bits, group, false, false, 0, Strings(config, "modules_to_not_convert", path));
            }

            case "gptq":
            {
                var bits = Int(config, "bits", path) ?? throw new QuantizedCheckpointException(path, Prefix + "bits", "is missing");
                var group = Int(config, "group_size", path) ?? 128;
                CheckBits(bits, path);
                CheckGroup(group, path);
                var format = String(config, "checkpoint_format", path) ?? "gptq";
                var offset = format.ToLowerInvariant() switch
                {
                    "gptq" => 1,
                    "gptq_v2" => 0,
                    _ => throw new QuantizedCheckpointException(path, Prefix + "checkpoint_format", $"'{format}' is not supported; 'gptq' and 'gptq_v2' are"),
                };
                return new(CheckpointQuantizationMethod.Gptq, bits, group, Bool(config, "sym", path) ?? true, Bool(config, "desc_act", path) ?? false, offset, Strings(config, "modules_to_not_convert", path));
            }

            default:
                throw new QuantizedCheckpointException(path, Prefix + "quant_method", $"'{method}' is not supported; supported: {string.Join(", ", SupportedMethods)}");
        }
    }

    private static CheckpointQuantization CompressedTensors(JsonElement config, string path)
    {
        var format = String(config, "format", path);
        if (format != "float-quantized")
        {
            throw new QuantizedCheckpointException(path, "quantization_config.format", $"compressed-tensors format '{format}' is not supported; only 'float-quantized' (FP8 e4m3) is");
        }

        if (!config.TryGetProperty("config_groups", out var groups) || groups.ValueKind != JsonValueKind.Object)
        {
            throw new QuantizedCheckpointException(path, "quantization_config.config_groups", "is missing or not an object");
        }

        foreach (var group in groups.EnumerateObject())
        {
            var field = $"quantization_config.config_groups.{group.Name}.weights";
            if (!group.Value.TryGetProperty("weights", out var weights) || weights.ValueKind != JsonValueKind.Object)
            {
                throw new QuantizedCheckpointException(path, field, "is missing");
            }

            if (Int(weights, "num_bits", path) != 8 || String(weights, "type", path) != "float")
            {
                throw new QuantizedCheckpointException(path, field, "only 8-bit float (FP8 e4m3) weights are supported");
            }

            var strategy = String(weights, "strategy", path);
            if (strategy is not ("tensor" or "channel"))
            {
                throw new QuantizedCheckpointException(path, field + ".strategy", $"'{strategy}' is not supported; 'tensor' and 'channel' are");
            }
        }

        return new(CheckpointQuantizationMethod.CompressedTensorsFp8, 8, 0, true, false, 0, Strings(config, "ignore", path));
    }

    private static void CheckBits(int bits, string path)
    {
        if (bits != 4)
        {
            throw new QuantizedCheckpointException(path, "quantization_config.bits", $"{bits}-bit weights are not supported; only 4-bit are");
        }
    }

    private static void CheckGroup(int group, string path)
    {
        if (group != -1 && (group <= 0 || group % Int4ZeroPoint.BlockSize != 0))
        {
            throw new QuantizedCheckpointException(path, "quantization_config.group_size", $"{group} is not supported; a positive multiple of {Int4ZeroPoint.BlockSize}, or -1, is");
        }
    }

    private static string? String(JsonElement o, string name, string path) => o.TryGetProperty(name, out var v) ? v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Null => null,
        _ => throw new QuantizedCheckpointException(path, "quantization_config." + name, $"is {v.ValueKind}, not a string"),
    } : null;

    private static int? Int(JsonElement o, string name, string path) => o.TryGetProperty(name, out var v) ? v.ValueKind switch
    {
        JsonValueKind.Number when v.TryGetInt32(out var i) => i,
        JsonValueKind.Null => null,
        _ => throw new QuantizedCheckpointException(path, "quantization_config." + name, $"is {v.ValueKind} '{v}', not an integer"),
    } : null;

    private static bool? Bool(JsonElement o, string name, string path) => o.TryGetProperty(name, out var v) ? v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        _ => throw new QuantizedCheckpointException(path, "quantization_config." + name, $"is {v.ValueKind}, not a boolean"),
    } : null;

    private static string[] Strings(JsonElement o, string name, string path)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (v.ValueKind != JsonValueKind.Array)
        {
            throw new QuantizedCheckpointException(path, "quantization_config." + name, "is not an array");
        }

        return [.. v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new QuantizedCheckpointException(path, "quantization_config." + name, "holds a non-string"))];
    }
}
