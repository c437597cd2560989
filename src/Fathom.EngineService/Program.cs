using Fathom.EngineService;

// Fathom's OpenAI-compatible engine service:
//   dotnet run --project src/Fathom.EngineService -- --model FILE [--urls http://127.0.0.1:PORT]
// Configuration: the Fathom section (appsettings, Fathom__Model etc. in the environment, or the switches in
// EngineServiceExtensions). Without a model it serves the built-in one (see BuiltInModel).
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddFathomEngine(args);
builder.AddFathomKvTier(); // the Redis tier, when ConnectionStrings:kvcache is set

var app = builder.Build();
app.UseRequestIdTagging(); // x-request-id on the traces
app.UseGatewayToken(); // with Fathom:GatewayToken set, only the API gets past the probes
app.MapDefaultEndpoints();
app.MapOpenAiEndpoints();
app.MapChatPage(); // the browser chat page at /
app.Run();
