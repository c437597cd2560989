namespace Fathom.Planner.Performance;

/// <summary>
/// How fast a CPU's decode matmul streams weights of one GGUF type at one thread count, as
/// <c>fathom bench --calibration-out</c> measures it (bytes as stored in the file, per second).
/// </summary>
/// <param name="Type">The GGUF tensor type (Q8_0, Q4_0, Q4_K, Q6_K, F16, BF16, F32).</param>
/// <param name="Threads">Threads the matmul ran on.</param>
/// <param name="GbS">Weight bytes streamed per second, in GB/s (10^9 bytes).</param>
public sealed record KernelRate(string Type, int Threads, double GbS);
