using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fathom.Planner;

/// <summary>The JSON conventions of the planner's data files, results and calibration records: snake_case, indented.</summary>
public static class PlanJson
{
    /// <summary>Options for reading and writing planner JSON.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    internal static T LoadEmbedded<T>(string fileName)
    {
        using var stream = typeof(PlanJson).Assembly.GetManifestResourceStream($"Fathom.Planner.Data.{fileName}")
            ?? throw new InvalidOperationException($"embedded data file {fileName} is missing from the planner assembly");
        return JsonSerializer.Deserialize<T>(stream, Options)
            ?? throw new InvalidOperationException($"embedded data file {fileName} is empty");
    }
}
