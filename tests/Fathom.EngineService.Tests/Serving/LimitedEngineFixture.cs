using Fathom.Testing;

namespace Fathom.EngineService.Tests.Serving;

/// <summary>A service of its own with a tiny batch (2 sequences) and queue (1 request), for load-shedding and cancellation.</summary>
public sealed class LimitedEngineFixture() : EngineServiceFixture("--max-num-seqs", "2", "--max-queued-requests", "1");
