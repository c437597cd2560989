using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fathom.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Fathom.Api.Tests.Gateway;

/// <summary>
/// A replica that dies mid-stream, played by a small in-test upstream (a real engine finishes stories260K streams
/// too fast to be killed reliably in the middle): the client must see an error event, not a silent end.
/// </summary>
[Collection(nameof(EngineReplicas))]
public sealed class MidStreamFailureTests
{
    [Fact]
    public async Task A_replica_that_dies_mid_stream_ends_the_stream_with_an_openai_error_event()
    {
        var ct = TestContext.Current.CancellationToken;
        var upstreamAddress = new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(upstreamAddress.ToString());
        await using var upstream = builder.Build();
        upstream.MapGet("/health/ready", () => "ok");
        upstream.MapPost("/v1/chat/completions", async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Once\"}}]}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(200, context.RequestAborted);
            context.Abort();
        });
        await upstream.StartAsync(ct);

        await using var api = await EngineReplicas.StartApiAsync([upstreamAddress]);
        using var http = EngineReplicas.Http(api);
        using var response = await http.PostAsJsonAsync("/v1/chat/completions",
            new { model = "any", stream = true, messages = new[] { new { role = "user", content = "Once" } } }, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string sse = await response.Content.ReadAsStringAsync(ct);

        string[] events = sse.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, events.Length);
        Assert.Contains("\"Once\"", events[0]);
        var error = JsonDocument.Parse(events[1]["data: ".Length..]).RootElement.GetProperty("error");
        Assert.Equal("replica_failed", error.GetProperty("code").GetString());
        Assert.Equal("server_error", error.GetProperty("type").GetString());
        await upstream.StopAsync(ct);
    }
}
