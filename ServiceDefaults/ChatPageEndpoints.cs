using System.Collections.Frozen;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The browser chat page both services serve at <c>/</c>: static HTML, CSS and JavaScript embedded in this assembly
/// (no build step, nothing fetched from elsewhere, so it works offline). The page holds no secret, so it is served
/// without a key; the <c>/v1</c> calls it makes carry the user's key like any client's.
/// </summary>
public static class ChatPageEndpoints
{
    /// <summary>Where the page's script and stylesheet are served.</summary>
    public const string AssetPath = "/chat-page";

    // The page runs only its own script and talks only to its own origin; model output can never become markup.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>
    {
        ["index.html"] = "text/html; charset=utf-8",
        ["chat.js"] = "text/javascript; charset=utf-8",
        ["chat.css"] = "text/css; charset=utf-8",
    }.ToFrozenDictionary();

    private static readonly FrozenDictionary<string, byte[]> Files = ContentTypes.Keys.ToFrozenDictionary(name => name, Read);

    /// <summary>Maps <c>GET /</c> to the chat page and <c>GET /chat-page/{file}</c> to its assets.</summary>
    public static IEndpointRouteBuilder MapChatPage(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/", (HttpContext context) => Serve(context, "index.html")).ExcludeFromDescription();
        endpoints.MapGet(AssetPath + "/{file}", (HttpContext context, string file) => Serve(context, file)).ExcludeFromDescription();
        return endpoints;
    }

    private static IResult Serve(HttpContext context, string file)
    {
        if (!Files.TryGetValue(file, out var bytes))
        {
            return Results.NotFound();
        }

        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "no-cache"; // a new release's page is picked up at once
        return Results.Bytes(bytes, ContentTypes[file]);
    }

    private static byte[] Read(string name)
    {
        using var stream = typeof(ChatPageEndpoints).Assembly.GetManifestResourceStream("Fathom.ChatPage." + name)
            ?? throw new InvalidOperationException($"the chat page's {name} is not embedded in {typeof(ChatPageEndpoints).Assembly.GetName().Name}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
