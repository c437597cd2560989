using System.Text.Json;

namespace Fathom.Safetensors;

/// <summary>
/// The weights of a Hugging Face model directory: <c>model.safetensors</c>, or the shards that
/// <c>model.safetensors.index.json</c> lists, opened and mapped together and presented as one set of tensors.
/// </summary>
public sealed unsafe class SafetensorsCheckpoint : IDisposable
{
    /// <summary>The single-file checkpoint's name.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>The shard index's name.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, (SafetensorsFile File, SafetensorsTensorInfo Tensor)> _byName;

    private SafetensorsCheckpoint(string directory, string? indexPath, List<SafetensorsFile> files)
    {
        Directory = directory;
        IndexPath = indexPath;
        _files = files;
        _byName = new(StringComparer.Ordinal);
        var all = new List<SafetensorsTensorInfo>();
        foreach (var file in files)
        {
            foreach (var tensor in file.Tensors)
            {
                if (!_byName.TryAdd(tensor.Name, (file, tensor)))
                {
                    throw new SafetensorsFormatException(file.FilePath, $"tensor '{tensor.Name}'", $"is also in '{_byName[tensor.Name].File.FilePath}'");
                }

                all.Add(tensor);
            }
        }

        Tensors = all;
    }

    /// <summary>The model directory.</summary>
    public string Directory { get; }

    /// <summary>The shard index, or null for a single-file checkpoint.</summary>
    public string? IndexPath { get; }

    /// <summary>Every tensor of every file, file by file in header order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The <c>.safetensors</c> files, in the order they were opened.</summary>
    public IReadOnlyList<string> FilePaths => _files.Select(f => f.FilePath).ToList();

    /// <summary>Bytes of every tensor together (headers not counted).</summary>
    public long TensorBytes => Tensors.Sum(t => t.ByteSize);

    /// <summary>Bytes of every file together.</summary>
    public long FileBytes => _files.Sum(f => f.FileLength);

    /// <summary>Whether <paramref name="directory"/> holds a safetensors checkpoint (single or sharded).</summary>
    public static bool Exists(string directory) =>
        System.IO.Directory.Exists(directory)
        && (File.Exists(Path.Combine(directory, IndexFileName)) || File.Exists(Path.Combine(directory, SingleFileName)));

    /// <summary>Opens the checkpoint in <paramref name="directory"/>: its shard index when there is one, else <c>model.safetensors</c>.</summary>
    /// <exception cref="SafetensorsFormatException">A file is malformed or missing, or the index and the shards disagree.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    public static SafetensorsCheckpoint Open(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var index = Path.Combine(directory, IndexFileName);
        if (File.Exists(index))
        {
            return OpenSharded(directory, index);
        }

        var single = Path.Combine(directory, SingleFileName);
        if (!File.Exists(single))
        {
            throw new SafetensorsFormatException(directory, SingleFileName, $"the directory has neither {SingleFileName} nor {IndexFileName}");
        }

        var file = SafetensorsFile.Open(single);
        try
        {
            return new SafetensorsCheckpoint(directory, null, [file]);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The tensor named <paramref name="name"/>, or null.</summary>
    public SafetensorsTensorInfo? FindTensor(string name) => _byName.TryGetValue(name, out var found) ? found.Tensor : null;

    /// <summary>The file holding <paramref name="tensor"/>.</summary>
    public string FileOf(SafetensorsTensorInfo tensor) => Owner(tensor).FilePath;

    /// <summary>Pointer to the tensor's first byte in its file's mapping; valid while the checkpoint is open.</summary>
    public byte* GetTensorPointer(SafetensorsTensorInfo tensor) => Owner(tensor).GetTensorPointer(tensor);

    /// <summary>The tensor's bytes, straight from the mapping; valid while the checkpoint is open.</summary>
    public ReadOnlySpan<byte> GetTensorBytes(SafetensorsTensorInfo tensor) => Owner(tensor).GetTensorBytes(tensor);

    /// <summary>Unmaps every file.</summary>
    public void Dispose()
    {
        foreach (var file in _files)
        {
            file.Dispose();
        }
    }

    private SafetensorsFile Owner(SafetensorsTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return _byName.TryGetValue(tensor.Name, out var found) && ReferenceEquals(found.Tensor, tensor)
            ? found.File
            : throw new ArgumentException($"Tensor '{tensor.Name}' does not belong to the checkpoint in {Directory}.", nameof(tensor));
    }

    private static SafetensorsCheckpoint OpenSharded(string directory, string indexPath)
    {
        var weightMap = ReadWeightMap(indexPath);
        var files = new List<SafetensorsFile>();
        try
        {
            var byShard = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var (name, shard) in weightMap)
            {
                if (!byShard.TryGetValue(shard, out var file))
                {
                    var shardPath = Path.Combine(directory, shard);
                    if (!File.Exists(shardPath))
                    {
                        throw new SafetensorsFormatException(indexPath, $"weight_map['{name}']", $"shard '{shard}' does not exist in {directory}");
                    }

                    file = SafetensorsFile.Open(shardPath);
                    files.Add(file);
                    byShard.Add(shard, file);
                }

                if (file.FindTensor(name) is null)
                {
                    throw new SafetensorsFormatException(indexPath, $"weight_map['{name}']", $"shard '{shard}' has no tensor '{name}'");
                }
            }

            foreach (var file in files)
            {
                foreach (var tensor in file.Tensors)
                {
                    if (!weightMap.TryGetValue(tensor.Name, out var listed))
                    {
                        throw new SafetensorsFormatException(indexPath, "weight_map", $"does not list tensor '{tensor.Name}' of '{file.FilePath}'");
                    }

                    if (!string.Equals(Path.Combine(directory, listed), file.FilePath, StringComparison.Ordinal))
                    {
                        throw new SafetensorsFormatException(indexPath, $"weight_map['{tensor.Name}']", $"names shard '{listed}', but the tensor is also in '{file.FilePath}'");
                    }
                }
            }

            return new SafetensorsCheckpoint(directory, indexPath, files);
        }
        catch
        {
            foreach (var file in files)
            {
                file.Dispose();
            }

            throw;
        }
    }

    /// <summary>The index's <c>weight_map</c>: tensor name to shard file name.</summary>
    /// <exception cref="SafetensorsFormatException">The index is malformed or names a path outside the directory.</exception>
    public static IReadOnlyDictionary<string, string> ReadWeightMap(string indexPath)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(indexPath));
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(indexPath, "", $"not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new SafetensorsFormatException(indexPath, "weight_map", "is missing or is not an object of tensor name to shard file");
            }

            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                var field = $"weight_map['{entry.Name}']";
                var shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : null;

                // A shard is a file beside the index: anything else could read files outside the model directory.
                if (shard is null || shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or ".." || shard.Contains('\\', StringComparison.Ordinal))
                {
                    throw new SafetensorsFormatException(indexPath, field, $"{entry.Value.GetRawText()} is not the file name of a shard in the same directory");
                }

                if (!result.TryAdd(entry.Name, shard))
                {
                    throw new SafetensorsFormatException(indexPath, field, "occurs twice");
                }
            }

            return result;
        }
    }
}
