using Fathom.Api;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapGet("/", () => "Fathom API");
app.MapPlanEndpoints();
app.Run();
