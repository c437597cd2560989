using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fathom.Connector.Tests.Support;

/// <summary>What the scripted server answers to one chat completion request.</summary>
internal sealed record ScriptedReply(
    string? Text = null,
    string? Reasoning = null,
    IReadOnlyList<ScriptedToolCall>? ToolCalls = null,
    string? FinishReason = null,
    int? CachedTokens = null,
    HttpStatusCode Status = HttpStatusCode.OK,
    string? ErrorMessage = null,
    bool HangAfterFirstChunk = false);

internal sealed record ScriptedToolCall(string Id, string Name, string Arguments);

/// <summary>
/// A real HTTP server on a loopback port (minimal Kestrel app) that speaks OpenAI's chat completions protocol
/// and answers from a script, as JSON or SSE depending on the request's <c>stream</c> flag. It records every
/// request body so tests can see what reached the wire.
/// </summary>
internal sealed class ScriptedOpenAiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Func<JsonObject, ScriptedReply>> _script = new();
    private readonly ConcurrentQueue<JsonObject> _requests = new();

    private ScriptedOpenAiServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri BaseAddress { get; }

    public IReadOnlyList<JsonObject> Requests => [.. _requests];

    /// <summary>Models listed at <c>GET /v1/models</c>; empty means the endpoint answers 404.</summary>
    public List<string> ModelIds { get; } = [];

    /// <summary>Completed when a streaming request that was told to hang sees its client go away.</summary>
    public TaskCompletionSource ClientDisconnected { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Authorization headers seen, in request order.</summary>
    public ConcurrentQueue<string?> AuthorizationHeaders { get; } = new();

    public static async Task<ScriptedOpenAiServer> StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        ScriptedOpenAiServer? server = null;
        app.MapPost("/v1/chat/completions", (HttpContext context) => server!.HandleAsync(context));
        app.MapGet("/v1/models", (HttpContext context) => server!.ListModelsAsync(context));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new ScriptedOpenAiServer(app, new Uri(address.TrimEnd('/') + "/"));
        return server;
    }

    public ScriptedOpenAiServer Enqueue(ScriptedReply reply) => Enqueue(_ => reply);

    /// <summary>Queues a reply computed from the request (e.g. naming the tool the request offered).</summary>
    public ScriptedOpenAiServer Enqueue(Func<JsonObject, ScriptedReply> reply)
    {
        _script.Enqueue(reply);
        return this;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ListModelsAsync(HttpContext context)
    {
        if (ModelIds.Count == 0)
        {
            await WriteErrorAsync(context, HttpStatusCode.NotFound, "no model list here");
            return;
        }

        var data = new JsonArray([.. ModelIds.Select(id => (JsonNode)new JsonObject { ["id"] = id, ["object"] = "model" })]);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(new JsonObject { ["object"] = "list", ["data"] = data }.ToJsonString(), context.RequestAborted);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))!.AsObject();
        _requests.Enqueue(request);
        AuthorizationHeaders.Enqueue(context.Request.Headers.Authorization.FirstOrDefault());

        if (!_script.TryDequeue(out var next))
        {
            await WriteErrorAsync(context, HttpStatusCode.InternalServerError, "the test script has no reply left");
            return;
        }

        var reply = next(request);
        if (reply.Status != HttpStatusCode.OK)
        {
            await WriteErrorAsync(context, reply.Status, reply.ErrorMessage ?? "scripted failure");
            return;
        }

        var finish = reply.FinishReason ?? (reply.ToolCalls is { Count: > 0 } ? "tool_calls" : "stop");
        var model = request["model"]?.GetValue<string>() ?? "unknown";
        var usage = OpenAiJson.Usage(11, 3, reply.CachedTokens);
        if (request["stream"]?.GetValue<bool>() == true)
        {
            await WriteStreamAsync(context, request, reply, finish, model, usage);
            return;
        }

        JsonArray? toolCalls = reply.ToolCalls is { Count: > 0 } calls
            ? [.. calls.Select(c => OpenAiJson.ToolCall(c.Id, c.Name, c.Arguments))]
            : null;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(
            OpenAiJson.Completion(reply.Text, finish, reply.Reasoning, toolCalls, usage, model), context.RequestAborted);
    }

    private async Task WriteStreamAsync(HttpContext context, JsonObject request, ScriptedReply reply, string finish, string model, JsonObject usage)
    {
        context.Response.ContentType = "text/event-stream";
        async Task SendAsync(string payload)
        {
            await context.Response.WriteAsync($"data: {payload}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }

        await SendAsync(OpenAiJson.Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, model: model));
        if (reply.HangAfterFirstChunk)
        {
            await SendAsync(OpenAiJson.Chunk(new JsonObject { ["content"] = reply.Text ?? "..." }, model: model));
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                ClientDisconnected.TrySetResult();
            }

            return;
        }

        foreach (var piece in Pieces(reply.Reasoning))
        {
            await SendAsync(OpenAiJson.Chunk(new JsonObject { ["reasoning_content"] = piece }, model: model));
        }

        foreach (var piece in Pieces(reply.Text))
        {
            await SendAsync(OpenAiJson.Chunk(new JsonObject { ["content"] = piece }, model: model));
        }

        var index = 0;
        foreach (var call in reply.ToolCalls ?? [])
        {
            var half = call.Arguments.Length / 2;
            await SendAsync(OpenAiJson.Chunk(ToolDelta(index, call.Id, call.Name, call.Arguments[..half]), model: model));
            await SendAsync(OpenAiJson.Chunk(ToolDelta(index, null, null, call.Arguments[half..]), model: model));
            index++;
        }

        await SendAsync(OpenAiJson.Chunk(new JsonObject(), finish, model));
        if (request["stream_options"]?["include_usage"]?.GetValue<bool>() == true)
        {
            await SendAsync(OpenAiJson.UsageChunk(usage));
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
    }

    private static JsonObject ToolDelta(int index, string? id, string? name, string arguments)
    {
        var function = new JsonObject { ["arguments"] = arguments };
        if (name is not null)
        {
            function["name"] = name;
        }

        var call = new JsonObject { ["index"] = index, ["function"] = function };
        if (id is not null)
        {
            call["id"] = id;
            call["type"] = "function";
        }

        return new JsonObject { ["tool_calls"] = new JsonArray(call) };
    }

    private static IEnumerable<string> Pieces(string? text)
    {
        for (var i = 0; text is not null && i < text.Length; i += 3)
        {
            yield return text.Substring(i, Math.Min(3, text.Length - i));
        }
    }

    private static async Task WriteErrorAsync(HttpContext context, HttpStatusCode status, string message)
    {
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "application/json";
        var body = new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["message"] = message,
                ["type"] = "invalid_request_error",
                ["param"] = null,
                ["code"] = (int)status,
            },
        };
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }
}
