using System.Text.Json.Serialization;

namespace Fathom.Models;

/// <summary>What a completed model's folder records: the reference, the file to load, and each file's size and hash.</summary>
internal sealed record StoreManifest(string Reference, string Primary, IReadOnlyList<StoreManifestFile> Files, DateTimeOffset Pulled);

/// <summary>One file of a <see cref="StoreManifest"/>.</summary>
internal sealed record StoreManifestFile(string Path, long Size, string? Sha256);

/// <summary>A partial download's ranges and how far each got, so a later pull resumes them.</summary>
internal sealed record DownloadState(string? Sha256, long Size, IReadOnlyList<DownloadRangeState> Ranges);

/// <summary>One range: bytes [Start, End) of the file, of which the first <c>Done</c> are on disk.</summary>
internal sealed record DownloadRangeState(long Start, long End, long Done);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(StoreManifest))]
[JsonSerializable(typeof(DownloadState))]
internal sealed partial class StoreJsonContext : JsonSerializerContext;
