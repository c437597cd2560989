namespace Fathom.Planner.Models;

/// <summary>Which tensor-parallel sizes split a model cleanly.</summary>
public static class TensorParallelism
{
    /// <summary>
    /// TP sizes up to <paramref name="limit"/> that divide the query heads and the FFN width, and either divide the
    /// KV heads or are a multiple of them (then each KV head is duplicated on TP / kv_heads GPUs).
    /// </summary>
    public static IReadOnlyList<int> ValidSizes(ModelShape shape, int limit = 64)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return [.. Enumerable.Range(1, Math.Min(limit, shape.Heads)).Where(t => IsValid(shape, t))];
    }

    /// <summary>True when <paramref name="tp"/> splits the model cleanly.</summary>
    public static bool IsValid(ModelShape shape, int tp)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return tp >= 1 && shape.Heads % tp == 0 && shape.FfnSize % tp == 0 && (shape.KvHeads % tp == 0 || tp % shape.KvHeads == 0);
    }

    /// <summary>KV heads each GPU holds at this TP: kv_heads / TP, or 1 (duplicated) when TP exceeds kv_heads.</summary>
    public static int KvHeadsPerGpu(ModelShape shape, int tp)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return Math.Max(1, shape.KvHeads / tp);
    }

    /// <summary>Plain-language notes: duplication above the KV head count and the sizes up to 8 that are not valid, with why.</summary>
    public static IReadOnlyList<string> Notes(ModelShape shape, IReadOnlyList<int> valid)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(valid);
        var notes = new List<string>();
        foreach (var t in valid.Where(t => t > shape.KvHeads))
        {
            notes.Add($"TP={t} > {shape.KvHeads} KV heads: each KV head (and its K/V weights) is duplicated on {t / shape.KvHeads} GPUs, so per-GPU KV stops shrinking");
        }

        var invalid = Enumerable.Range(2, 7).Where(t => !valid.Contains(t)).ToList();
        if (invalid.Count > 0)
        {
            notes.Add($"TP={string.Join("/", invalid)} not valid: {shape.Heads} query heads / {shape.KvHeads} KV heads / FFN {shape.FfnSize} do not split evenly");
        }

        return notes;
    }
}
