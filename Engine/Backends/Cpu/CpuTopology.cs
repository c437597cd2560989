namespace Fathom.Engine.Backends.Cpu;

/// <summary>What the machine offers the CPU backend.</summary>
internal static class CpuTopology
{
    /// <summary>Physical cores (hyper-threads share one core's vector units, so they do not help matmuls).</summary>
    public static int PhysicalCoreCount()
    {
        try
        {
            const string Root = "/sys/devices/system/cpu";
            if (Directory.Exists(Root))
            {
                var cores = new HashSet<(string, string)>();
                foreach (var dir in Directory.EnumerateDirectories(Root, "cpu*"))
                {
                    var topology = Path.Combine(dir, "topology");
                    var core = Path.Combine(topology, "core_id");
                    var package = Path.Combine(topology, "physical_package_id");
                    if (File.Exists(core) && File.Exists(package))
                    {
                        cores.Add((File.ReadAllText(package).Trim(), File.ReadAllText(core).Trim()));
                    }
                }

                if (cores.Count > 0)
                {
                    return Math.Min(cores.Count, Environment.ProcessorCount);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return Environment.ProcessorCount;
    }

    /// <summary>
    /// Bytes of one core's L2 data cache (what the matmul tiles are sized to), from sysfs; 1 MiB where it cannot be
    /// read (a typical current x64 core; ARM64 cores have 1–2 MiB).
    /// </summary>
    public static long L2CacheBytes()
    {
        const long Default = 1 << 20;
        try
        {
            const string Root = "/sys/devices/system/cpu/cpu0/cache";
            if (!Directory.Exists(Root))
            {
                return Default;
            }

            foreach (var dir in Directory.EnumerateDirectories(Root, "index*"))
            {
                var level = Path.Combine(dir, "level");
                var size = Path.Combine(dir, "size");
                var type = Path.Combine(dir, "type");
                if (File.Exists(level) && File.Exists(size) && File.ReadAllText(level).Trim() == "2"
                    && (!File.Exists(type) || File.ReadAllText(type).Trim() != "Instruction"))
                {
                    return ParseSize(File.ReadAllText(size).Trim()) ?? Default;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return Default;
    }

    /// <summary>A sysfs cache size such as <c>1024K</c> or <c>2M</c>, in bytes; null when it is not one.</summary>
    internal static long? ParseSize(string text)
    {
        if (text.Length == 0)
        {
            return null;
        }

        var unit = char.ToUpperInvariant(text[^1]);
        var (digits, scale) = unit switch
        {
            'K' => (text[..^1], 1L << 10),
            'M' => (text[..^1], 1L << 20),
            'G' => (text[..^1], 1L << 30),
            _ => (text, 1L),
        };
        return long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0
            ? value * scale
            : null;
    }
}
