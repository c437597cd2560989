namespace Fathom.Models;

/// <summary>
/// A lock file that one process at a time holds while it pulls into a store folder, so that two engine replicas
/// started on the same reference download it once: the second waits, then finds it complete. The operating system
/// releases the lock when its holder dies.
/// </summary>
internal sealed class StoreLock : IDisposable
{
    private readonly FileStream _stream;

    private StoreLock(FileStream stream) => _stream = stream;

    public static async Task<StoreLock> AcquireAsync(string path, Action onWait, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        bool waited = false;
        while (true)
        {
            try
            {
                return new StoreLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (!cancellationToken.IsCancellationRequested)
            {
                if (!waited)
                {
                    waited = true;
                    onWait();
                }

                await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
