using System.Globalization;

/// <summary>This process's memory counters from /proc/self/status (Linux), in MiB.</summary>
internal static class ProcessMemory
{
    /// <summary>
    /// A status field in MiB: VmRSS (resident now), VmHWM (peak resident), RssAnon (anonymous: heap, weight copies),
    /// RssFile (file pages mapped and resident: a memory-mapped model). -1 where /proc is absent.
    /// </summary>
    public static long MiB(string field)
    {
        const string Status = "/proc/self/status";
        if (!File.Exists(Status))
        {
            return -1;
        }

        var line = File.ReadLines(Status).First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) >> 10;
    }

    /// <summary>The 1, 5 and 15 minute load averages, for noting beside numbers measured on a shared machine.</summary>
    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
