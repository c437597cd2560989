using System.Globalization;

namespace Fathom.Planner.Performance;

/// <summary>
/// Decode speed on a CPU from measured kernel rates. A single "fraction of peak bandwidth" does not carry over
/// between formats on a CPU: Q8_0 decode is bound by memory, Q4_0 partly by the instructions that unpack it, and the
/// balance moves with the thread count. So a step is modelled as Σ over weight types (bytes of that type ÷ the
/// decode matmul's measured streaming rate for that type at that thread count) + KV bytes ÷ read bandwidth, and one
/// factor f, calibrated from one measured run, covers what the kernels alone miss (norms, attention, RoPE, activation
/// quantization, waking the workers): predicted tokens/s = f ÷ modelled step.
/// </summary>
public sealed class CpuDecodeModel
{
    private readonly IReadOnlyList<KernelRate> _rates;
    private readonly IReadOnlyList<ReadBandwidth> _read;
    private readonly HashSet<string> _notes = [];

    private CpuDecodeModel(CalibrationRecord anchor, int threads)
    {
        Anchor = anchor;
        Threads = threads;
        _rates = anchor.KernelRates!;
        _read = anchor.ReadBandwidth!;
        var anchorStep = KernelSeconds(anchor.DecodeBytesByType!, anchor.KvBytesPerStep!.Value, anchor.Threads!.Value);
        Factor = anchor.MeasuredTokSPerUser * anchorStep;
    }

    /// <summary>The record f was calibrated from.</summary>
    public CalibrationRecord Anchor { get; }

    /// <summary>Threads the prediction is for.</summary>
    public int Threads { get; }

    /// <summary>
    /// f: the anchor's measured tokens/s × its modelled step; the share of kernel-only speed a whole step keeps
    /// (≤ 1 when the probes are right; above 1 means the probes under-measured).
    /// </summary>
    public double Factor { get; }

    /// <summary>
    /// Picks the anchor among <paramref name="records"/> (all for one device) that carry kernel rates: the same weight
    /// format and thread count if there is one, else the same format, else the same thread count, else the last.
    /// Null when no record carries kernel rates.
    /// </summary>
    /// <param name="records">The device's records.</param>
    /// <param name="weightsFormat">The planned weight format id (e.g. gguf-q4_0).</param>
    /// <param name="threads">The planned thread count; null means the anchor's.</param>
    public static CpuDecodeModel? From(IReadOnlyList<CalibrationRecord> records, string weightsFormat, int? threads)
    {
        ArgumentNullException.ThrowIfNull(records);
        var usable = records.Where(r => r.HasKernelRates).ToList();
        if (usable.Count == 0)
        {
            return null;
        }

        bool SameFormat(CalibrationRecord r) => string.Equals(r.Weights, weightsFormat, StringComparison.OrdinalIgnoreCase);
        bool SameThreads(CalibrationRecord r) => threads is null || r.Threads == threads;
        var anchor = usable.LastOrDefault(r => SameFormat(r) && SameThreads(r))
            ?? usable.LastOrDefault(SameFormat)
            ?? usable.LastOrDefault(SameThreads)
            ?? usable[^1];
        return new CpuDecodeModel(anchor, threads ?? anchor.Threads!.Value);
    }

    /// <summary>Seconds of one decode step that streams <paramref name="bytesByType"/> of weights and <paramref name="kvBytes"/> of cache.</summary>
    public double StepSeconds(IReadOnlyDictionary<string, long> bytesByType, double kvBytes) =>
        KernelSeconds(bytesByType, kvBytes, Threads) / Factor;

    /// <summary>What the prediction rests on, for the plan's assumptions (including any rate it had to substitute).</summary>
    public IEnumerable<string> Provenance()
    {
        var rates = string.Join(", ", _rates.Where(r => r.Threads == Threads).Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Type} {r.GbS:0.#}")));
        yield return string.Create(CultureInfo.InvariantCulture,
            $"calibrated CPU decode: step = sum over weight types of bytes / that type's measured matmul rate at {Threads} thread(s) (GB/s: {rates}) + KV bytes / read bandwidth, divided by f = {Factor:0.###} from {Anchor.Model} ({Anchor.Weights}, {Anchor.Threads} thread(s), {Anchor.MeasuredTokSPerUser:0.##} tok/s measured by fathom bench on {Anchor.Device}{(Anchor.Date is null ? "" : ", " + Anchor.Date)})");
        foreach (var note in _notes.Distinct())
        {
            yield return note;
        }
    }

    private double KernelSeconds(IReadOnlyDictionary<string, long> bytesByType, double kvBytes, int threads)
    {
        var seconds = kvBytes / (ReadGbS(threads) * 1e9);
        foreach (var (type, bytes) in bytesByType)
        {
            if (bytes > 0)
            {
                seconds += bytes / (KernelGbS(type, threads) * 1e9);
            }
        }

        return seconds;
    }

    private double KernelGbS(string type, int threads)
    {
        // The planner's recipes name 16-bit storage F16 whether it is f16 or bf16; both decode through the same path.
        var rates = _rates.Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase)).ToList();
        if (rates.Count == 0 && type == "F16")
        {
            rates = [.. _rates.Where(r => r.Type == "BF16")];
        }

        if (rates.Count == 0)
        {
            _notes.Add($"no CPU kernel rate measured for {type}; its bytes are counted at the read bandwidth");
            return ReadGbS(threads);
        }

        return Nearest(rates.Select(r => (r.Threads, r.GbS)), threads, $"{type} kernel rate");
    }

    private double ReadGbS(int threads) => Nearest(_read.Select(r => (r.Threads, r.GbS)), threads, "read bandwidth");

    private double Nearest(IEnumerable<(int Threads, double GbS)> rates, int threads, string what)
    {
        var best = rates.MinBy(r => Math.Abs(r.Threads - threads));
        if (best.Threads != threads)
        {
            _notes.Add($"{what} at {threads} thread(s) was not measured; the rate at {best.Threads} thread(s) is used");
        }

        return best.GbS;
    }
}
