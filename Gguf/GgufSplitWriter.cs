namespace Fathom.Gguf;

/// <summary>
/// Splits a model into <see cref="GgufSplit"/> parts the way llama.cpp's <c>gguf-split</c> does: tensors in file
/// order, an equal share per part; all metadata in part 1; the split keys in every part.
/// </summary>
public static unsafe class GgufSplitWriter
{
    /// <summary>
    /// One writer per part, not yet written; tensor data is streamed from <paramref name="source"/> at write time,
    /// so it must stay open until the writers are written.
    /// </summary>
    /// <param name="source">The model to split (its <c>split.*</c> keys, if any, are not copied).</param>
    /// <param name="partCount">Number of parts, 1 to the number of tensors (each part gets at least one).</param>
    /// <param name="addSplitKeys">False leaves the split keys out, for callers that write their own.</param>
    public static GgufWriter[] CreateParts(GgufFile source, int partCount, bool addSplitKeys = true)
    {
        ArgumentNullException.ThrowIfNull(source);
        var tensors = source.Tensors;
        ArgumentOutOfRangeException.ThrowIfLessThan(partCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(partCount, Math.Min(tensors.Count, ushort.MaxValue));

        var writers = new GgufWriter[partCount];
        for (var part = 0; part < partCount; part++)
        {
            var writer = writers[part] = new GgufWriter();
            if (part == 0)
            {
                foreach (var (key, value) in source.Metadata)
                {
                    if (key is not (GgufSplit.NumberKey or GgufSplit.CountKey or GgufSplit.TensorsCountKey))
                    {
                        writer.AddMetadata(key, value);
                    }
                }
            }

            if (addSplitKeys)
            {
                writer.AddMetadata(GgufSplit.NumberKey, (ushort)part);
                writer.AddMetadata(GgufSplit.CountKey, (ushort)partCount);
                writer.AddMetadata(GgufSplit.TensorsCountKey, tensors.Count);
            }

            // Shares differ by at most one tensor, and none is empty since partCount <= tensors.
            var start = (int)((long)tensors.Count * part / partCount);
            var end = (int)((long)tensors.Count * (part + 1) / partCount);
            for (var i = start; i < end; i++)
            {
                var tensor = tensors[i];
                var data = (nint)source.GetTensorPointer(tensor);
                writer.AddTensor(tensor.Name, tensor.Type, tensor.Dimensions, s =>
                {
                    using var bytes = new UnmanagedMemoryStream((byte*)data, tensor.ByteSize);
                    bytes.CopyTo(s);
                });
            }
        }

        return writers;
    }

    /// <summary>Writes <paramref name="source"/> as <paramref name="partCount"/> parts named <c>PREFIX-%05d-of-%05d.gguf</c>; returns their paths in order.</summary>
    public static string[] Write(GgufFile source, string prefix, int partCount)
    {
        var writers = CreateParts(source, partCount);
        var paths = new string[partCount];
        for (var i = 0; i < partCount; i++)
        {
            paths[i] = GgufSplit.PartPath(prefix, i, partCount);
            writers[i].WriteTo(paths[i]);
        }

        return paths;
    }
}
