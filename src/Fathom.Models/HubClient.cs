using System.Text.Json;

namespace Fathom.Models;

/// <summary>
/// Reads a hub repository the way the hub serves it: <c>GET {endpoint}/api/models/{repo}</c> (is it gated?) and
/// <c>GET {endpoint}/api/models/{repo}/tree/main?recursive=true</c> (paths, sizes, <c>lfs.oid</c> SHA-256s; pages
/// follow the <c>Link: &lt;…&gt;; rel="next"</c> header); files download from <c>{endpoint}/{repo}/resolve/main/{path}</c>.
/// </summary>
internal sealed class HubClient(HubHttp http)
{
    private const string Revision = "main";

    /// <summary>Whether the repository is gated (its info says <c>"gated": "auto"|"manual"</c>); throws when it does not exist.</summary>
    public async Task<bool> IsGatedAsync(string repository, CancellationToken cancellationToken)
    {
        var url = new Uri($"{Base}/api/models/{repository}");
        var (response, _) = await http.SendAsync(url, HttpMethod.Get, null, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            http.ThrowIfFailed(response, $"repository {repository}", repository);
            using var json = await JsonDocument.ParseAsync(
                await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), default, cancellationToken).ConfigureAwait(false);
            return json.RootElement.TryGetProperty("gated", out var gated)
                && gated.ValueKind is not (JsonValueKind.False or JsonValueKind.Null or JsonValueKind.Undefined);
        }
    }

    /// <summary>Every file of the repository's <c>main</c> revision, in all folders.</summary>
    public async Task<IReadOnlyList<HubFile>> ListFilesAsync(string repository, CancellationToken cancellationToken)
    {
        var files = new List<HubFile>();
        Uri? next = new($"{Base}/api/models/{repository}/tree/{Revision}?recursive=true");
        while (next is not null)
        {
            var (response, _) = await http.SendAsync(next, HttpMethod.Get, null, cancellationToken).ConfigureAwait(false);
            using (response)
            {
                http.ThrowIfFailed(response, $"repository {repository}", repository);
                using var json = await JsonDocument.ParseAsync(
                    await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), default, cancellationToken).ConfigureAwait(false);
                if (json.RootElement.ValueKind != JsonValueKind.Array)
                {
                    throw new ModelPullException($"the tree of {repository} from {http.Settings.Endpoint.Authority} is not a JSON array");
                }

                foreach (var entry in json.RootElement.EnumerateArray())
                {
                    if (entry.TryGetProperty("type", out var type) && type.GetString() == "file")
                    {
                        files.Add(ReadFile(entry));
                    }
                }

                next = NextPage(response, next);
            }
        }

        return files;
    }

    /// <summary>Where a file of the repository downloads from (each path segment escaped).</summary>
    public Uri ResolveUrl(string repository, string path) =>
        new($"{Base}/{repository}/resolve/{Revision}/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}");

    private string Base => http.Settings.Endpoint.ToString().TrimEnd('/');

    private static HubFile ReadFile(JsonElement entry)
    {
        string path = entry.GetProperty("path").GetString() ?? throw new ModelPullException("a tree entry has no path");
        long size = entry.TryGetProperty("size", out var s) ? s.GetInt64() : 0;
        string? blob = entry.TryGetProperty("oid", out var oid) ? oid.GetString()?.ToLowerInvariant() : null;
        string? sha256 = null;
        if (entry.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object)
        {
            sha256 = lfs.TryGetProperty("oid", out var lfsOid) ? lfsOid.GetString()?.ToLowerInvariant() : null;
            if (lfs.TryGetProperty("size", out var lfsSize))
            {
                size = lfsSize.GetInt64();
            }
        }

        return new HubFile(path, size, sha256, sha256 is null ? blob : null);
    }

    private static Uri? NextPage(HttpResponseMessage response, Uri current)
    {
        if (!response.Headers.TryGetValues("Link", out var links))
        {
            return null;
        }

        foreach (string link in links.SelectMany(l => l.Split(',')))
        {
            string[] parts = link.Split(';', StringSplitOptions.TrimEntries);
            if (parts.Length > 1 && parts.Skip(1).Any(p => p.Replace(" ", "", StringComparison.Ordinal) is "rel=\"next\"" or "rel=next"))
            {
                string target = parts[0].Trim('<', '>', ' ');
                return Uri.TryCreate(current, target, out var uri) ? uri : null;
            }
        }

        return null;
    }
}
