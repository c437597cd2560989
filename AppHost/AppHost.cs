// Fathom as one app model: the cache, the engine replicas behind the API, and a sample client.
//   dotnet run --project AppHost                                          (run: processes on this machine)
//   dotnet run --project AppHost -- --publisher manifest --output-path out   (publish: what azd deploys)
var builder = DistributedApplication.CreateBuilder(args);

// Resources
var kvcache = builder.AddKvCache("kvcache");
var model = builder.AddModelParameter("model");
var servedModelName = builder.AddParameterWithDefault("served-model-name", "deepseek-r1-distill-llama-70b");   // the id clients send
var backend = builder.AddParameterWithDefault("backend", "auto");   // auto | cpu | cuda
var apiKey = builder.AddApiKey("api-key");                  // run: generated and shown; publish: api-key-sha256, required
var gatewayToken = builder.AddGatewayToken("gateway-token");   // engines serve only the API

// Services
var engines = builder.AddEngines("engine", model, servedModelName, backend, kvcache)
    .WithGatewayToken(gatewayToken);

var api = builder.AddProject<Projects.Fathom_Api>("api")
    .WithExternalHttpEndpoints()
    .WithEngines(engines)
    .WithSharedLimits(kvcache)   // rate-limit counters, in a store that never evicts them (docs/security.md)
    .WithApiKeyHash(apiKey)
    .WithGatewayToken(gatewayToken)
    .WithManagementEndpoint();   // /metrics and /health, internal only

// A local demo that answers once and exits: run mode only (a deployment would restart it forever, and holds no key).
if (builder.ExecutionContext.IsRunMode)
{
    builder.AddProject<Projects.Fathom_Samples_Chat>("chat")
        .WithReference(api)
        .WaitFor(api)
        .WithApiKey(apiKey)
        .WithArgs("--prompt", "Tell me a short story about a fox.", "--max-tokens", "64");
}

builder.Build().Run();
