namespace Fathom.Gguf;

/// <summary>
/// Where the parser found each section and each count/length field; recorded only on request, so the
/// fuzz tests can aim truncations and huge values at the places that matter.
/// </summary>
internal sealed class GgufLayout
{
    /// <summary>Offsets just past each section: the header, each metadata entry, each tensor info, the data start, each tensor's bytes.</summary>
    public List<long> SectionEnds { get; } = [];

    /// <summary>Offsets and widths (4 or 8 bytes) of every count, length, dimension and type field.</summary>
    public List<(long Offset, int Width)> CountFields { get; } = [];
}
