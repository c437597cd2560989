using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Fathom.Models;

/// <summary>The two hashes the hub publishes for a file: SHA-256 (LFS files) and the git blob id (files kept in git).</summary>
internal static class FileHashes
{
    public static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await HashFileAsync(path, hash, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>SHA-1 of <c>"blob {size}\0"</c> followed by the content, as git names blobs.</summary>
    public static async Task<string> GitBlobIdAsync(string path, CancellationToken cancellationToken)
    {
#pragma warning disable CA5350 // git's object ids are SHA-1; this compares with one, it does not secure anything
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
#pragma warning restore CA5350
        hash.AppendData(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"blob {new FileInfo(path).Length}\0")));
        await HashFileAsync(path, hash, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static async Task HashFileAsync(string path, IncrementalHash hash, CancellationToken cancellationToken)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            byte[] buffer = new byte[4 << 20];
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }
        }
    }
}
