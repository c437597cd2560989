using Fathom.Engine.Backends;
using Fathom.Engine.Backends.Cpu;

namespace Fathom.Engine.Tests.Backends;

/// <summary>The CPU backend on one thread.</summary>
public sealed class CpuBackendConformanceTests() : BackendConformanceTests(new CpuBackend(1));

/// <summary>The CPU backend on three threads (more than this machine's cores: the pool must still be right).</summary>
public sealed class CpuBackendThreadedConformanceTests() : BackendConformanceTests(new CpuBackend(3));

/// <summary>
/// The CPU backend on two threads with Q8_0/Q4_0 weights interleaved, as the model loader places them on a CPU with
/// vector hardware, and Q4_K/Q6_K weights interleaved: the interleaved kernels of this process's tier
/// (<see cref="KernelTierTests"/> runs the lower ones) against the reference, and batch invariance through them.
/// </summary>
public sealed class CpuBackendInterleavedConformanceTests() : BackendConformanceTests(new CpuBackend(2))
{
    private protected override WeightMatrix Prepare(NativeWeight weight) => weight.Interleaved;
}
