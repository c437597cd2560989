using Fathom.Api;
using Fathom.Api.Security;

// Fathom's API service: one OpenAI-compatible front door over the engine replicas
// (services__engine__http__N), with API keys, per-key limits and prefix-aware routing. See docs/api.md.
var builder = WebApplication.CreateBuilder(args);
if (ApiKeyPolicy.Refusal(builder.Configuration, builder.Environment) is { } refusal)
{
    // A missing setting, not a bug: one line and a non-zero exit rather than a stack trace.
    Console.Error.WriteLine(refusal);
    return 2;
}

builder.AddServiceDefaults();
builder.AddFathomGateway();

var app = builder.Build();
app.UseFathomGateway();
app.MapDefaultEndpoints();
app.MapChatPage(); // the browser chat page at /
app.MapPlanEndpoints();
app.MapFathomGateway();
app.Run();
return 0;
