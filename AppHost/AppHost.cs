// Fathom as one app model: the cache, the engine replicas behind the API, and a sample client.
//   dotnet run --project AppHost                                          (run: processes on this machine)
//   dotnet run --project AppHost -- --publisher manifest --output-path out   (publish: what azd deploys)
var builder = DistributedApplication.CreateBuilder(args);

// Resources
var kvcache = builder.AddKvCache("kvcache");
var model = builder.AddModelParameter("model");
var servedModelName = builder.AddParameterWithDefault("served-model-name", "deepseek-r1-distill-llama-70b");   // the id clients send
var backend = builder.AddParameterWithDefault("backend", "auto");   // auto | cpu | cuda

// Services
var engines = builder.AddEngines("engine", model, servedModelName, backend, kvcache);

var api = builder.AddProject<Projects.Fathom_Api>("api")
    .WithExternalHttpEndpoints()
    .WithEngines(engines)
    .WithSharedLimits(kvcache)   // rate-limit counters, in a store that never evicts them (docs/security.md)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Fathom_Samples_Chat>("chat")
    .WithReference(api)
    .WaitFor(api)
    .WithArgs("--prompt", "Tell me a short story about a fox.", "--max-tokens", "64");

builder.Build().Run();
