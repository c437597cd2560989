using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Fathom.Models;

/// <summary>
/// The local model store (<c>~/.cache/fathom/models</c>, or <c>FATHOM_MODELS</c>, or <see cref="ModelStoreOptions.Root"/>):
/// pulls models by <see cref="ModelReference"/>, lists and removes them, and resolves "a path or a reference" to a
/// path, pulling when needed. A model's folder is complete once its <c>fathom-model.json</c> is written, which
/// happens after every file's hash checked out.
/// </summary>
public sealed class ModelStore : IDisposable
{
    /// <summary>The manifest that marks a folder's model complete.</summary>
    public const string ManifestFileName = "fathom-model.json";

    private readonly ModelStoreOptions _options;
    private readonly Lazy<HubHttp> _http;

    /// <summary>Opens the store described by <paramref name="options"/> (defaults: the environment's).</summary>
    public ModelStore(ModelStoreOptions? options = null)
    {
        _options = options ?? new ModelStoreOptions();
        Root = Path.GetFullPath(_options.Root ?? DefaultRoot());
        _http = new Lazy<HubHttp>(() => new HubHttp(_options.Hub ?? HubSettings.FromEnvironment(), _options.ReadTimeout));
    }

    /// <summary>The store's folder.</summary>
    public string Root { get; }

    /// <summary><c>FATHOM_MODELS</c> when set, else <c>$XDG_CACHE_HOME/fathom/models</c>, else <c>~/.cache/fathom/models</c>.</summary>
    public static string DefaultRoot()
    {
        if (Environment.GetEnvironmentVariable("FATHOM_MODELS") is { Length: > 0 } configured)
        {
            return configured;
        }

        string cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "fathom", "models");
    }

    /// <summary>
    /// True when <paramref name="value"/> is no existing file or folder but parses as a <see cref="ModelReference"/>:
    /// the cases <see cref="ResolveAsync"/> pulls for.
    /// </summary>
    public static bool IsReference(string? value) =>
        !string.IsNullOrWhiteSpace(value) && !File.Exists(value) && !Directory.Exists(value) && ModelReference.TryParse(value, out _);

    /// <summary>
    /// The path to load for <paramref name="value"/>: an existing file or folder as it is, a reference from the
    /// store (pulled first when missing), anything else unchanged (so the loader reports the missing file).
    /// </summary>
    public async Task<string> ResolveAsync(string value, IProgress<PullProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!IsReference(value))
        {
            return value;
        }

        var reference = ModelReference.Parse(value);
        var stored = Find(reference) ?? await PullAsync(reference, progress, cancellationToken).ConfigureAwait(false);
        return stored.Path;
    }

    /// <summary>Every complete model in the store, by reference.</summary>
    public IReadOnlyList<StoredModel> List()
    {
        if (!Directory.Exists(Root))
        {
            return [];
        }

        return [.. Directory.EnumerateFiles(Root, ManifestFileName, SearchOption.AllDirectories)
            .Select(ReadManifest)
            .OfType<StoredModel>()
            .OrderBy(m => m.Reference, StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>
    /// The stored model for <paramref name="reference"/>, or null. A GGUF reference without a tag finds the
    /// <c>Q4_K_M</c> one, else the only one stored.
    /// </summary>
    public StoredModel? Find(ModelReference reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (reference is { Kind: ModelReferenceKind.GgufRepository, Tag: null })
        {
            string variants = Path.Combine(Root, reference.RepositoryDirectory, "gguf");
            if (!Directory.Exists(variants))
            {
                return null;
            }

            var stored = Directory.EnumerateDirectories(variants)
                .Select(d => ReadManifest(Path.Combine(d, ManifestFileName)))
                .OfType<StoredModel>()
                .ToList();
            return stored.FirstOrDefault(m => string.Equals(Path.GetFileName(m.Directory), GgufFileSelector.DefaultTag, StringComparison.OrdinalIgnoreCase))
                ?? (stored.Count == 1 ? stored[0] : null);
        }

        return ReadManifest(Path.Combine(Root, reference.StoreDirectory, ManifestFileName));
    }

    /// <summary>Deletes the stored model (and any partial download) for <paramref name="reference"/>; false when there was none.</summary>
    public bool Remove(ModelReference reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        string? directory = Find(reference)?.Directory
            ?? (reference.Kind != ModelReferenceKind.GgufRepository || reference.Tag is not null ? Path.Combine(Root, reference.StoreDirectory) : null);
        if (directory is null || !Directory.Exists(directory))
        {
            return false;
        }

        Directory.Delete(directory, recursive: true);
        return true;
    }

    /// <summary>
    /// Downloads <paramref name="reference"/> into the store (resuming what an earlier pull left), checks every
    /// file's hash and marks the model complete; a model already complete is returned at once.
    /// </summary>
    public async Task<StoredModel> PullAsync(ModelReference reference, IProgress<PullProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        string text = reference.ToString();
        var waiting = new PullProgress(text, PullStage.Waiting, null, 0, 0, 0, 0, 0, null);
        using (await StoreLock.AcquireAsync(LockPath(reference), () => progress?.Report(waiting), cancellationToken).ConfigureAwait(false))
        {
            if (Find(reference) is { } complete)
            {
                return complete;
            }

            var plan = await PlanAsync(reference, cancellationToken).ConfigureAwait(false);
            if (Find(plan.Reference) is { } existing)
            {
                return existing;
            }

            Directory.CreateDirectory(plan.Directory);
            long resumed = plan.Items.Sum(FileDownloader.ResumableBytes);
            long needed = plan.Items.Where(i => !File.Exists(i.FinalPath)).Sum(i => Math.Max(i.Size, 0)) - resumed;
            CheckFreeSpace(plan.Directory, needed);

            long total = plan.Items.Sum(i => Math.Max(i.Size, 0));
            var tracker = new PullTracker(plan.Reference.ToString(), progress, total, plan.Items.Count);
            var downloader = new FileDownloader(_http.Value, _options);
            for (var i = 0; i < plan.Items.Count; i++)
            {
                var item = plan.Items[i];
                if (File.Exists(item.FinalPath) && new FileInfo(item.FinalPath).Length == item.Size)
                {
                    tracker.StartFile(item.Name, i + 1, item.Size);
                    continue;
                }

                tracker.StartFile(item.Name, i + 1, FileDownloader.ResumableBytes(item));
                await downloader.DownloadAsync(item, tracker, cancellationToken).ConfigureAwait(false);
            }

            var manifest = new StoreManifest(
                plan.Reference.ToString(),
                plan.Primary,
                [.. plan.Items.Select(i => new StoreManifestFile(Path.GetRelativePath(plan.Directory, i.FinalPath), new FileInfo(i.FinalPath).Length, i.Sha256))],
                DateTimeOffset.UtcNow);
            string temp = Path.Combine(plan.Directory, ManifestFileName + ".tmp");
            await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(manifest, StoreJsonContext.Default.StoreManifest), cancellationToken).ConfigureAwait(false);
            File.Move(temp, Path.Combine(plan.Directory, ManifestFileName), overwrite: true);
            tracker.SetStage(PullStage.Complete);
            return ReadManifest(Path.Combine(plan.Directory, ManifestFileName))
                ?? throw new ModelPullException($"the manifest of {plan.Reference} could not be read back");
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_http.IsValueCreated)
        {
            _http.Value.Dispose();
        }
    }

    private void CheckFreeSpace(string directory, long needed)
    {
        if (needed <= 0)
        {
            return;
        }

        long free = (_options.FreeSpaceProbe ?? FreeSpace)(directory);
        if (free < needed)
        {
            throw new InsufficientDiskSpaceException(
                $"not enough disk space in {directory}: the pull needs {FormatBytes(needed)} ({needed:N0} bytes) and {FormatBytes(free)} is free")
            {
                BytesNeeded = needed,
                BytesFree = free,
            };
        }
    }

    private static long FreeSpace(string directory) => new DriveInfo(directory).AvailableFreeSpace;

    /// <summary>Bytes in binary units, e.g. <c>4.1 GiB</c>.</summary>
    public static string FormatBytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B") : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }

    private async Task<PullPlan> PlanAsync(ModelReference reference, CancellationToken cancellationToken)
    {
        var http = _http.Value;
        if (reference.Kind == ModelReferenceKind.Url)
        {
            return await PlanUrlAsync(reference, http, cancellationToken).ConfigureAwait(false);
        }

        var hub = new HubClient(http);
        string repository = reference.Repository!;
        bool gated = await hub.IsGatedAsync(repository, cancellationToken).ConfigureAwait(false);
        if (gated && http.Settings.Token is null)
        {
            throw new GatedModelException(
                $"{repository} is gated: set HF_TOKEN to a token of an account that accepted its terms at {http.Settings.Endpoint}/{repository}");
        }

        var files = await hub.ListFilesAsync(repository, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<HubFile> chosen;
        var resolved = reference;
        if (reference.Kind == ModelReferenceKind.GgufRepository)
        {
            var (tag, parts) = GgufFileSelector.Select(reference.ToString(), files, reference.Tag);
            resolved = reference.WithTag(reference.Tag ?? tag);
            chosen = parts;
        }
        else
        {
            chosen = SafetensorsFiles(reference, files);
        }

        string directory = Path.Combine(Root, resolved.StoreDirectory);
        var items = chosen.Select(f => new DownloadItem(
            hub.ResolveUrl(repository, f.Path),
            Path.Combine(directory, Path.GetFileName(f.Path)),
            f.Path, f.Size, f.Sha256, f.GitBlobId, repository)).ToList();
        string primary = reference.Kind == ModelReferenceKind.GgufRepository ? Path.GetFileName(chosen[0].Path) : ".";
        return new PullPlan(resolved, directory, primary, items);
    }

    private async Task<PullPlan> PlanUrlAsync(ModelReference reference, HubHttp http, CancellationToken cancellationToken)
    {
        var url = reference.Url!;
        var (response, first) = await http.SendAsync(url, HttpMethod.Head, null, cancellationToken).ConfigureAwait(false);
        long size;
        string? sha256 = null;
        using (response)
        {
            http.ThrowIfFailed(response, $"file {url}", url.Authority);
            size = first.TryGetValues("X-Linked-Size", out var linkedSize) && long.TryParse(linkedSize.First(), NumberStyles.None, CultureInfo.InvariantCulture, out long s) ? s
                : response.Content.Headers.ContentLength ?? -1;
            string? etag = first.TryGetValues("X-Linked-Etag", out var linked) ? linked.First() : response.Headers.ETag?.Tag;
            etag = etag?.Replace("W/", "", StringComparison.Ordinal).Trim('"').ToLowerInvariant();
            if (etag is { Length: 64 } && etag.All(char.IsAsciiHexDigit))
            {
                sha256 = etag;
            }
        }

        string directory = Path.Combine(Root, reference.StoreDirectory);
        string name = reference.UrlFileName;
        return new PullPlan(reference, directory, name,
            [new DownloadItem(url, Path.Combine(directory, name), name, size, sha256, null, url.Authority)]);
    }

    private static List<HubFile> SafetensorsFiles(ModelReference reference, IReadOnlyList<HubFile> files)
    {
        var top = files.Where(f => !f.Path.Contains('/', StringComparison.Ordinal)).ToList();
        if (!top.Any(f => f.Path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)))
        {
            throw new ModelNotFoundException(
                $"{reference} has no .safetensors files at its top level; for a GGUF repository use hf.co/{reference.Repository}:QUANT");
        }

        return [.. top.Where(f =>
            f.Path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
            || f.Path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            || f.Path.EndsWith(".jinja", StringComparison.OrdinalIgnoreCase)
            || f.Path.StartsWith("tokenizer", StringComparison.OrdinalIgnoreCase)
            || f.Path is "merges.txt" or "vocab.txt")];
    }

    private string LockPath(ModelReference reference)
    {
        // One lock per repository (or URL): a tagless pull and a tagged one of the same repository must not race.
        string key = reference.Kind == ModelReferenceKind.Url ? reference.Url!.ToString() : reference.Repository!.ToLowerInvariant();
        string name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
        return Path.Combine(Root, ".locks", name + ".lock");
    }

    private static StoredModel? ReadManifest(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var manifest = JsonSerializer.Deserialize(File.ReadAllText(path), StoreJsonContext.Default.StoreManifest);
            if (manifest is null)
            {
                return null;
            }

            string directory = Path.GetDirectoryName(path)!;
            string primary = Path.GetFullPath(Path.Combine(directory, manifest.Primary));
            return manifest.Files.All(f => File.Exists(Path.Combine(directory, f.Path)))
                ? new StoredModel(manifest.Reference, directory, primary, manifest.Files.Sum(f => f.Size), manifest.Pulled)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private sealed record PullPlan(ModelReference Reference, string Directory, string Primary, IReadOnlyList<DownloadItem> Items);
}
