namespace Fathom.Planner.Performance;

/// <summary>A CPU's memory read bandwidth at one thread count (a streaming sum over a buffer far larger than the caches).</summary>
/// <param name="Threads">Threads reading.</param>
/// <param name="GbS">Bytes read per second, in GB/s (10^9 bytes).</param>
public sealed record ReadBandwidth(int Threads, double GbS);
