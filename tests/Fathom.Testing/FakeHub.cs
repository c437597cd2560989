using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fathom.Testing;

/// <summary>
/// An in-process stand-in for the Hugging Face hub on 127.0.0.1, answering what the real hub answers:
/// <c>GET /api/models/{repo}</c> (info with <c>gated</c> and <c>siblings</c>), <c>GET /api/models/{repo}/tree/main</c>
/// (entries with <c>oid</c>, <c>size</c> and <c>lfs.oid</c>/<c>lfs.size</c>, paged with a <c>Link: rel="next"</c>
/// header), and <c>/{repo}/resolve/main/{path}</c>: LFS files redirect (302) to a second port standing in for the CDN
/// with <c>X-Linked-Etag</c>/<c>X-Linked-Size</c>, files kept in git come straight back with their blob id as ETag.
/// The CDN honours <c>Range</c> (206, <c>Content-Range</c>, 416). Unknown repositories answer 401 with
/// <c>X-Error-Code: RepoNotFound</c>; gated ones answer 401 (no token) or 403 (wrong token) with <c>GatedRepo</c>.
/// Faults for tests: cut a download after N bytes, serve a corrupted byte.
/// </summary>
public sealed class FakeHub : IAsyncDisposable
{
    private const string CommitSha = "0123456789abcdef0123456789abcdef01234567";
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Repository> _repositories = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, HubFileContent> _bySha = new(StringComparer.Ordinal);

    private FakeHub(WebApplication app) => _app = app;

    /// <summary>The hub's address: what <c>HF_ENDPOINT</c> is set to.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The CDN's address (another port, so a client must not send its token there).</summary>
    public Uri Cdn { get; private set; } = null!;

    /// <summary>Tree entries per page; small values exercise the client's paging.</summary>
    public int TreePageSize { get; set; } = 1000;

    /// <summary>When above zero, downloads are paced to about this many bytes a second (so a test can watch a pull).</summary>
    public int BytesPerSecond { get; set; }

    /// <summary>Every request received, in order.</summary>
    public ConcurrentQueue<HubRequest> Requests { get; } = new();

    /// <summary>Starts the hub on two free loopback ports.</summary>
    public static async Task<FakeHub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0", "http://127.0.0.1:0");
        var app = builder.Build();
        var hub = new FakeHub(app);
        hub.Map(app);
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>()
            .Addresses.Select(a => new Uri(a)).OrderBy(a => a.Port).ToArray();
        hub.Endpoint = addresses[0];
        hub.Cdn = addresses[1];
        return hub;
    }

    /// <summary>Adds (or replaces) a file; <c>.gguf</c> and <c>.safetensors</c> files are LFS files unless <paramref name="lfs"/> says otherwise.</summary>
    public HubFileContent AddFile(string repository, string path, byte[] content, bool? lfs = null)
    {
        var file = new HubFileContent(path, content,
            lfs ?? (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)));
        var repo = _repositories.GetOrAdd(repository, r => new Repository(r));
        repo.Files[path] = file;
        _bySha[file.Sha256] = file;
        return file;
    }

    /// <summary>Makes <paramref name="repository"/> gated: downloads need <c>Authorization: Bearer <paramref name="token"/></c>.</summary>
    public void Gate(string repository, string token) => _repositories.GetOrAdd(repository, r => new Repository(r)).Token = token;

    /// <summary>The next download of <paramref name="path"/> sends <paramref name="bytes"/> bytes, then resets the connection.</summary>
    public void CutNextDownloadAfter(string repository, string path, long bytes) => Find(repository, path).CutAfter = bytes;

    /// <summary>Downloads of <paramref name="path"/> carry a flipped byte at <paramref name="offset"/>; the tree keeps the true SHA-256.</summary>
    public void CorruptByte(string repository, string path, long offset) => Find(repository, path).CorruptOffset = offset;

    /// <summary>Stops the hub.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private HubFileContent Find(string repository, string path) => _repositories[repository].Files[path];

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            Requests.Enqueue(new HubRequest(
                context.Request.Method, context.Request.Path + context.Request.QueryString, context.Connection.LocalPort,
                context.Request.Headers.Range.ToString() is { Length: > 0 } range ? range : null,
                context.Request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null));
            await next(context);
        });
        app.MapGet("/api/models/{org}/{name}", (string org, string name, HttpContext context) => Info($"{org}/{name}", context));
        app.MapGet("/api/models/{org}/{name}/tree/{revision}", (string org, string name, HttpContext context) => Tree($"{org}/{name}", context));
        app.MapMethods("/{org}/{name}/resolve/{revision}/{**path}", ["GET", "HEAD"],
            (string org, string name, string path, HttpContext context) => Resolve($"{org}/{name}", path, context));
        app.MapMethods("/cdn/{sha}", ["GET", "HEAD"], (string sha, HttpContext context) => ServeAsync(context, _bySha.TryGetValue(sha, out var f) ? f : null));
    }

    private IResult Info(string repository, HttpContext context)
    {
        if (!_repositories.TryGetValue(repository, out var repo))
        {
            return RepoNotFound(context);
        }

        return Results.Json(new Dictionary<string, object?>
        {
            ["_id"] = "6560a1b2c3d4e5f6a7b8c9d0",
            ["id"] = repo.Name,
            ["modelId"] = repo.Name,
            ["author"] = repo.Name.Split('/')[0],
            ["sha"] = CommitSha,
            ["lastModified"] = "2026-01-01T00:00:00.000Z",
            ["private"] = false,
            ["disabled"] = false,
            ["gated"] = repo.Token is null ? false : "manual",
            ["downloads"] = 0,
            ["likes"] = 0,
            ["tags"] = new[] { "gguf" },
            ["siblings"] = repo.Files.Keys.Order(StringComparer.Ordinal).Select(p => new Dictionary<string, string> { ["rfilename"] = p }).ToArray(),
            ["createdAt"] = "2026-01-01T00:00:00.000Z",
        });
    }

    private IResult Tree(string repository, HttpContext context)
    {
        if (!_repositories.TryGetValue(repository, out var repo))
        {
            return RepoNotFound(context);
        }

        var entries = new List<Dictionary<string, object>>();
        foreach (var folder in repo.Files.Keys.Where(p => p.Contains('/')).Select(p => p[..p.LastIndexOf('/')]).Distinct().Order(StringComparer.Ordinal))
        {
            entries.Add(new() { ["type"] = "directory", ["oid"] = GitBlobId(Encoding.UTF8.GetBytes(folder)), ["size"] = 0, ["path"] = folder });
        }

        foreach (var file in repo.Files.Values.OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            var entry = new Dictionary<string, object> { ["type"] = "file", ["oid"] = file.GitBlobId, ["size"] = file.Content.Length, ["path"] = file.Path };
            if (file.Lfs)
            {
                entry["lfs"] = new Dictionary<string, object> { ["oid"] = file.Sha256, ["size"] = file.Content.Length, ["pointerSize"] = 134 };
            }

            entries.Add(entry);
        }

        int cursor = int.TryParse(context.Request.Query["cursor"], CultureInfo.InvariantCulture, out var c) ? c : 0;
        var page = entries.Skip(cursor).Take(TreePageSize).ToList();
        if (cursor + page.Count < entries.Count)
        {
            string next = $"{Endpoint.ToString().TrimEnd('/')}/api/models/{repository}/tree/main?recursive=true&cursor={cursor + page.Count}";
            context.Response.Headers.Link = $"<{next}>; rel=\"next\"";
        }

        return Results.Json(page);
    }

    private async Task Resolve(string repository, string path, HttpContext context)
    {
        if (!_repositories.TryGetValue(repository, out var repo))
        {
            await RepoNotFound(context).ExecuteAsync(context);
            return;
        }

        if (repo.Token is { } token && context.Request.Headers.Authorization.ToString() != $"Bearer {token}")
        {
            bool anonymous = context.Request.Headers.Authorization.Count == 0;
            string message = anonymous
                ? $"Access to model {repository} is restricted. You must have access to it and be authenticated to access it. Please log in."
                : $"Access to model {repository} is restricted and you are not in the authorized list. Visit {Endpoint}{repository} to ask for access.";
            context.Response.Headers["X-Error-Code"] = "GatedRepo";
            context.Response.Headers["X-Error-Message"] = message;
            context.Response.StatusCode = anonymous ? 401 : 403;
            await context.Response.WriteAsJsonAsync(new { error = message });
            return;
        }

        if (!repo.Files.TryGetValue(path, out var file))
        {
            context.Response.Headers["X-Error-Code"] = "EntryNotFound";
            context.Response.Headers["X-Error-Message"] = "Entry not found";
            context.Response.StatusCode = 404;
            await context.Response.WriteAsJsonAsync(new { error = "Entry not found" });
            return;
        }

        context.Response.Headers["X-Repo-Commit"] = CommitSha;
        if (file.Lfs)
        {
            context.Response.Headers["X-Linked-Etag"] = $"\"{file.Sha256}\"";
            context.Response.Headers["X-Linked-Size"] = file.Content.Length.ToString(CultureInfo.InvariantCulture);
            context.Response.Headers.ETag = $"\"{file.Sha256}\"";
            context.Response.Headers.Location = $"{Cdn.ToString().TrimEnd('/')}/cdn/{file.Sha256}?X-Amz-Signature=fake";
            context.Response.StatusCode = 302;
            await context.Response.WriteAsync($"Found. Redirecting to {context.Response.Headers.Location}");
            return;
        }

        await ServeAsync(context, file);
    }

    /// <summary>Serves a file's bytes with ETag and Range support, applying its faults.</summary>
    private async Task ServeAsync(HttpContext context, HubFileContent? file)
    {
        if (file is null)
        {
            context.Response.StatusCode = 404;
            return;
        }

        long length = file.Content.Length;
        long from = 0;
        long to = length - 1;
        string range = context.Request.Headers.Range.ToString();
        context.Response.Headers.AcceptRanges = "bytes";
        context.Response.Headers.ETag = $"\"{(file.Lfs ? file.Sha256 : file.GitBlobId)}\"";
        if (range.StartsWith("bytes=", StringComparison.Ordinal))
        {
            string[] bounds = range["bytes=".Length..].Split('-');
            from = long.Parse(bounds[0], CultureInfo.InvariantCulture);
            to = bounds[1].Length > 0 ? Math.Min(long.Parse(bounds[1], CultureInfo.InvariantCulture), length - 1) : length - 1;
            if (from >= length || from > to)
            {
                context.Response.StatusCode = 416;
                context.Response.Headers.ContentRange = $"bytes */{length}";
                return;
            }

            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {from}-{to}/{length}";
        }

        context.Response.ContentLength = to - from + 1;
        context.Response.ContentType = "application/octet-stream";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        byte[] body = file.Content[(int)from..(int)(to + 1)];
        if (file.CorruptOffset is { } corrupt && corrupt >= from && corrupt <= to)
        {
            body[corrupt - from] ^= 0xFF;
        }

        if (Interlocked.Exchange(ref file.CutAfterField, -1) is var cut and >= 0)
        {
            await context.Response.Body.WriteAsync(body.AsMemory(0, (int)Math.Min(cut, body.Length)));
            await context.Response.Body.FlushAsync();
            // Let the bytes reach the client before the reset: an abort right after the flush can make the client's
            // socket drop data it has not read yet, and the "cut after N bytes" would arrive as a cut after 0.
            await Task.Delay(300);
            context.Abort();
            return;
        }

        if (BytesPerSecond <= 0)
        {
            await context.Response.Body.WriteAsync(body);
            return;
        }

        const int Chunk = 16 * 1024;
        for (var offset = 0; offset < body.Length; offset += Chunk)
        {
            await context.Response.Body.WriteAsync(body.AsMemory(offset, Math.Min(Chunk, body.Length - offset)), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await Task.Delay(TimeSpan.FromSeconds((double)Chunk / BytesPerSecond), context.RequestAborted);
        }
    }

    private static IResult RepoNotFound(HttpContext context)
    {
        context.Response.Headers["X-Error-Code"] = "RepoNotFound";
        context.Response.Headers["X-Error-Message"] = "Repository not found";
        return Results.Json(new { error = "Repository not found" }, statusCode: (int)HttpStatusCode.Unauthorized);
    }

    private static string GitBlobId(byte[] content)
    {
#pragma warning disable CA5350 // git names blobs by SHA-1
        return Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {content.Length}\0"), .. content]));
#pragma warning restore CA5350
    }

    private sealed class Repository(string name)
    {
        public string Name { get; } = name;

        public string? Token { get; set; }

        public ConcurrentDictionary<string, HubFileContent> Files { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>One served file and its faults.</summary>
    public sealed class HubFileContent
    {
        internal long CutAfterField = -1;

        internal HubFileContent(string path, byte[] content, bool lfs)
        {
            Path = path;
            Content = content;
            Lfs = lfs;
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
            GitBlobId = FakeHub.GitBlobId(content);
        }

        /// <summary>Path in the repository.</summary>
        public string Path { get; }

        /// <summary>The true bytes.</summary>
        public byte[] Content { get; }

        /// <summary>Whether the file is stored in LFS (has <c>lfs.oid</c>, redirects to the CDN).</summary>
        public bool Lfs { get; }

        /// <summary>SHA-256 of <see cref="Content"/>.</summary>
        public string Sha256 { get; }

        /// <summary>git blob id of <see cref="Content"/>.</summary>
        public string GitBlobId { get; }

        internal long CutAfter { set => Interlocked.Exchange(ref CutAfterField, value); }

        internal long? CorruptOffset { get; set; }
    }
}

/// <summary>A request the <see cref="FakeHub"/> received.</summary>
/// <param name="Method">HTTP method.</param>
/// <param name="PathAndQuery">Path and query string.</param>
/// <param name="Port">The local port it arrived on (<see cref="FakeHub.Endpoint"/>'s or <see cref="FakeHub.Cdn"/>'s).</param>
/// <param name="Range">Its <c>Range</c> header, if any.</param>
/// <param name="Authorization">Its <c>Authorization</c> header, if any.</param>
public sealed record HubRequest(string Method, string PathAndQuery, int Port, string? Range, string? Authorization);
