using Fathom.Testing;

// One engine service on stories260K for the whole assembly: starting one costs more than most tests here.
[assembly: AssemblyFixture(typeof(EngineServiceFixture))]
