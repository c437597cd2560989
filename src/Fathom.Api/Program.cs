using Fathom.Api;

// Fathom's API service: one OpenAI-compatible front door over the engine replicas
// (services__engine__http__N), with API keys, per-key limits and prefix-aware routing. See docs/api.md.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddFathomGateway();

var app = builder.Build();
app.UseFathomGateway();
app.MapDefaultEndpoints();
app.MapChatPage(); // the browser chat page at /
app.MapPlanEndpoints();
app.MapFathomGateway();
app.Run();
