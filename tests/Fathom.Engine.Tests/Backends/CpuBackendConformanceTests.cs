using Fathom.Engine.Backends.Cpu;

namespace Fathom.Engine.Tests.Backends;

/// <summary>The CPU backend on one thread.</summary>
public sealed class CpuBackendConformanceTests() : BackendConformanceTests(new CpuBackend(1));

/// <summary>The CPU backend on three threads (more than this machine's cores: the pool must still be right).</summary>
public sealed class CpuBackendThreadedConformanceTests() : BackendConformanceTests(new CpuBackend(3));
