namespace Fathom.Models;

/// <summary>One file a pull downloads: from where, to where, how big, and the hash it must have.</summary>
/// <param name="Url">Where it downloads from (the hub's <c>resolve</c> address or the URL given).</param>
/// <param name="FinalPath">Where the complete, checked file goes.</param>
/// <param name="Name">How progress and errors name it (its repository path).</param>
/// <param name="Size">Bytes, or -1 when the server did not say.</param>
/// <param name="Sha256">Expected SHA-256 (lower-case hex), or null.</param>
/// <param name="GitBlobId">Expected git blob id (SHA-1 of <c>"blob SIZE\0"</c> + content) for files kept in git, or null.</param>
/// <param name="Owner">The repository (or host) errors name.</param>
internal sealed record DownloadItem(Uri Url, string FinalPath, string Name, long Size, string? Sha256, string? GitBlobId, string Owner)
{
    public string PartialPath => FinalPath + ".partial";

    public string StatePath => FinalPath + ".partial.json";
}
