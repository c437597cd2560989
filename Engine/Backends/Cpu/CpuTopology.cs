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
}
