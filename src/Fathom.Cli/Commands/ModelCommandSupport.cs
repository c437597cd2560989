using System.CommandLine;
using System.Globalization;
using System.Text;
using Fathom.Gguf;
using Fathom.Engine.KvCache;
using Fathom.Engine.Model;

namespace Fathom.Cli.Commands;

/// <summary>What <c>generate</c> and <c>bench</c> share: loading with a progress line, and one-line errors.</summary>
internal static class ModelCommandSupport
{
    public const int ExitFailure = 2;
    private const long ProgressThresholdBytes = 100L << 20;

    public static LlamaModel Load(
        string path, int? threads, ComputeBackendKind backend, int? kvBlocks, TextWriter error, int tensorParallel = 1, KvCacheDataType kvType = KvCacheDataType.Auto,
        WeightQuantization quantization = WeightQuantization.None)
    {
        path = ModelStoreSupport.Resolve(path, error);
        var showProgress = !Console.IsErrorRedirected && ReferenceEquals(error, Console.Error)
            && ((File.Exists(path) && new FileInfo(path).Length > ProgressThresholdBytes) || Directory.Exists(path));
        var options = new ModelLoadOptions
        {
            Backend = backend,
            Threads = threads,
            KvBlockCount = kvBlocks,
            TensorParallel = tensorParallel,
            KvCacheDataType = kvType,
            Quantization = quantization,
            LoadProgress = showProgress ? new Progress(error) : null,
        };
        var model = LlamaModel.Load(path, options);
        if (showProgress)
        {
            error.Write("\r" + new string(' ', 60) + "\r");
        }

        return model;
    }

    /// <summary>True for the errors a user can cause (bad file, bad arguments); they print as one line.</summary>
    public static bool IsUserError(Exception e) =>
        e is GgufFormatException or Fathom.Safetensors.SafetensorsFormatException or ModelLoadException or Fathom.Models.ModelPullException or IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException;

    public static int Fail(TextWriter error, string verb, Exception e)
    {
        error.WriteLine($"fathom {verb}: {e.Message.ReplaceLineEndings(" ")}");
        return ExitFailure;
    }

    public static int[] ParseIds(string text) =>
        [.. text.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) ? id
                : throw new ArgumentException($"'{s}' in --prompt-ids is not a token id"))];

    /// <summary>
    /// The <c>--chat-template FILE</c> option for commands that chat with a model: a Jinja file (or a
    /// <c>tokenizer_config.json</c>) replacing the model's own template. Pass its value as
    /// <see cref="Engine.Serving.ServedModelOptions.ChatTemplatePath"/>; a bad file then fails the load with a
    /// <see cref="ModelLoadException"/>, which <see cref="IsUserError"/> prints as one line.
    /// </summary>
    public static Option<string?> ChatTemplateOption() => new("--chat-template")
    {
        Description = "A chat template file (Jinja, or a tokenizer_config.json) used instead of the model's own.",
    };

    /// <summary>The <c>--quantize</c> option: float weights quantized as they load.</summary>
    public static Option<string?> QuantizeOption() => new("--quantize")
    {
        Description = $"Quantize F32/F16/BF16 weights as they load, to serve in less memory: {string.Join(", ", WeightQuantizations.Names)} (default none).",
    };

    /// <summary>A <see cref="WeightQuantization"/> from its name; null or empty is none.</summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="WeightQuantizations.Names"/>.</exception>
    public static WeightQuantization ParseQuantize(string? name) =>
        WeightQuantizations.Parse(name?.Trim() ?? "")
        ?? throw new ArgumentException($"--quantize '{name}' is not supported; choose one of: {string.Join(", ", WeightQuantizations.Names)}");

    /// <summary>The <c>--backend</c> option: any <see cref="ComputeBackendKind"/> by kebab-case name, or <c>auto</c>.</summary>
    public static Option<string> BackendOption() => new("--backend")
    {
        Description = $"Compute backend: {string.Join(", ", BackendNames())} (default auto).",
        DefaultValueFactory = _ => "auto",
    };

    /// <summary>The <c>--kv-cache-dtype</c> option: the KV cache's element type by name (<see cref="KvCacheDataTypes"/>).</summary>
    public static Option<string> KvCacheDtypeOption() => new("--kv-cache-dtype")
    {
        Description = $"KV cache element type: {string.Join(", ", KvCacheDataTypes.AllNames)} (default auto: f16 on cpu, f32 on reference; fp8 = e4m3 with scale 1.0, half of f16).",
        DefaultValueFactory = _ => "auto",
    };

    /// <summary>A KV cache element type from its name; anything else is a one-line user error.</summary>
    public static KvCacheDataType ParseKvCacheDtype(string name) =>
        KvCacheDataTypes.TryParse(name.Trim(), out var type) ? type
            : throw new ArgumentException($"unknown --kv-cache-dtype '{name}'; choose one of: {string.Join(", ", KvCacheDataTypes.AllNames)}");

    /// <summary>
    /// A backend kind from its kebab-case name (<c>cpu</c>, <c>ilgpu-cpu</c>…), so new enum values need no CLI change.
    /// <c>auto</c> is the enum's own <c>Auto</c> when it has one, else the load options' default.
    /// </summary>
    public static ComputeBackendKind ParseBackend(string name)
    {
        foreach (var kind in Enum.GetValues<ComputeBackendKind>())
        {
            if (string.Equals(Kebab(kind.ToString()), name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return kind;
            }
        }

        if (string.Equals(name.Trim(), "auto", StringComparison.OrdinalIgnoreCase))
        {
            return new ModelLoadOptions().Backend;
        }

        throw new ArgumentException($"unknown backend '{name}'; choose one of: {string.Join(", ", BackendNames())}");
    }

    private static IEnumerable<string> BackendNames() =>
        Enum.GetValues<ComputeBackendKind>().Select(k => Kebab(k.ToString())).Append("auto").Distinct();

    private static string Kebab(string pascal)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < pascal.Length; i++)
        {
            var c = pascal[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(pascal[i - 1]) || (i + 1 < pascal.Length && char.IsLower(pascal[i + 1]))))
            {
                builder.Append('-');
            }

            builder.Append(char.ToLowerInvariant(c));
        }

        return builder.ToString();
    }

    private sealed class Progress(TextWriter error) : IProgress<double>
    {
        public void Report(double value)
        {
            const int Width = 40;
            var filled = (int)Math.Round(value * Width);
            error.Write(string.Create(CultureInfo.InvariantCulture, $"\rloading [{new string('#', filled)}{new string('.', Width - filled)}] {value,4:P0}"));
        }
    }
}
