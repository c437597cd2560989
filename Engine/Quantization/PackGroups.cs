namespace Fathom.Engine.Quantization;

/// <summary>
/// Runs a repack's independent row groups on up to a given number of threads: at load every byte of a model passes
/// through a layout's Pack, and on one thread that was the bulk of an 8B model's load time.
/// </summary>
internal static class PackGroups
{
    /// <summary>Calls <paramref name="pack"/> for every group in [0, <paramref name="groups"/>), on up to <paramref name="threads"/> threads.</summary>
    public static void Run(int groups, int threads, Action<int> pack)
    {
        if (threads <= 1 || groups < 2)
        {
            for (var g = 0; g < groups; g++)
            {
                pack(g);
            }

            return;
        }

        Parallel.For(0, groups, new ParallelOptions { MaxDegreeOfParallelism = threads }, pack);
    }
}
