namespace Fathom.Models;

/// <summary>
/// One file of a hub repository as its tree listing describes it: the path, the size, and the hash to check it
/// against — the SHA-256 of LFS files (<c>lfs.oid</c>) or, for small files kept in git, the git blob id (SHA-1).
/// </summary>
/// <param name="Path">Path inside the repository, <c>/</c>-separated.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Sha256">Lower-case hex SHA-256 from the LFS metadata, or null for a non-LFS file.</param>
/// <param name="GitBlobId">The git blob id (<c>oid</c>), lower-case hex SHA-1 of <c>"blob SIZE\0"</c> + content.</param>
public sealed record HubFile(string Path, long Size, string? Sha256, string? GitBlobId);
