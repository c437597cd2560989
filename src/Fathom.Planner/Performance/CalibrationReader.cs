using System.Text.Json;

namespace Fathom.Planner.Performance;

/// <summary>Reads and writes calibration files: one record, or an array of records, as snake_case JSON.</summary>
public static class CalibrationReader
{
    /// <summary>Reads every record in the file at <paramref name="path"/>.</summary>
    /// <exception cref="PlannerInputException">Missing file, bad JSON, wrong schema or implausible values.</exception>
    public static IReadOnlyList<CalibrationRecord> Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException e)
        {
            throw new PlannerInputException($"cannot read calibration file '{path}': {e.Message}", e);
        }

        return Parse(text, path);
    }

    /// <summary>Parses calibration JSON (an object or an array of objects).</summary>
    /// <exception cref="PlannerInputException">Bad JSON, wrong schema or implausible values.</exception>
    public static IReadOnlyList<CalibrationRecord> Parse(string json, string name = "calibration")
    {
        List<CalibrationRecord> records;
        try
        {
            records = json.TrimStart().StartsWith('[')
                ? JsonSerializer.Deserialize<List<CalibrationRecord>>(json, PlanJson.Options) ?? []
                : [JsonSerializer.Deserialize<CalibrationRecord>(json, PlanJson.Options) ?? throw new JsonException("null record")];
        }
        catch (JsonException e)
        {
            throw new PlannerInputException($"calibration '{name}' is not valid: {e.Message}", e);
        }

        foreach (var r in records)
        {
            if (r.Schema != CalibrationRecord.SchemaId)
            {
                throw new PlannerInputException($"calibration '{name}' has schema '{r.Schema}', expected '{CalibrationRecord.SchemaId}'");
            }

            if (string.IsNullOrWhiteSpace(r.Device) || r.BandwidthFraction is not (> 0 and <= 1) || r.MeasuredTokSPerUser <= 0 || r.Tp < 1)
            {
                throw new PlannerInputException($"calibration '{name}' for '{r.Device}' needs a device, 0 < bandwidth_fraction <= 1, tokens/s > 0 and tp >= 1");
            }

            if (r.KernelRates?.Any(k => k.GbS <= 0 || k.Threads < 1 || string.IsNullOrWhiteSpace(k.Type)) == true
                || r.ReadBandwidth?.Any(b => b.GbS <= 0 || b.Threads < 1) == true || r.Threads is < 1)
            {
                throw new PlannerInputException($"calibration '{name}' for '{r.Device}' has a kernel rate or read bandwidth that is not positive");
            }

            _ = r.Kernel; // validates the weight format
        }

        return records;
    }

    /// <summary>Writes records as a JSON array (what <c>fathom bench</c> produces).</summary>
    public static string Write(IEnumerable<CalibrationRecord> records) => JsonSerializer.Serialize(records, PlanJson.Options);
}
