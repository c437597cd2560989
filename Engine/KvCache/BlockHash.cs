using System.Globalization;

namespace Fathom.Engine.KvCache;

/// <summary>
/// The 128-bit key of a full KV block in the prefix cache: a chained hash of every token before and in the
/// block, plus the model fingerprint (see <see cref="BlockHasher"/>). Equal keys mean equal K/V contents.
/// </summary>
/// <param name="Value">The hash bits.</param>
public readonly record struct BlockHash(UInt128 Value)
{
    /// <summary>The parent key of the first block of a sequence.</summary>
    public static BlockHash Root => default;

    /// <summary>32 lowercase hex digits, usable as a storage key.</summary>
    public override string ToString() => Value.ToString("x32", CultureInfo.InvariantCulture);
}
