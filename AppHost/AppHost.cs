var builder = DistributedApplication.CreateBuilder(args);

var engine = builder.AddProject<Projects.Fathom_EngineService>("engine")
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Fathom_Api>("api")
    .WithExternalHttpEndpoints()
    .WithReference(engine)
    .WaitFor(engine)
    .WithHttpHealthCheck("/health");

builder.Build().Run();
