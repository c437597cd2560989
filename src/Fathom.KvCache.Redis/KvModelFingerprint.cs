using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace Fathom.KvCache.Redis;

/// <summary>
/// Identifies everything that makes two models' K/V blocks differ for the same tokens. Part of every Redis key and
/// of every stored value, so models sharing one Redis never read each other's blocks.
/// </summary>
/// <param name="Value">The 128-bit fingerprint (the engine's model fingerprint can be passed through as is).</param>
public readonly record struct KvModelFingerprint(UInt128 Value)
{
    /// <summary>32 lowercase hex digits, as used in keys.</summary>
    public string Hex => Value.ToString("x32", CultureInfo.InvariantCulture);

    /// <summary>Derives the fingerprint from a model description (a canonical text of its fields, hashed with XxHash128).</summary>
    /// <param name="description">The values that affect K/V contents and layout.</param>
    public static KvModelFingerprint Create(KvModelDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        return new KvModelFingerprint(XxHash128.HashToUInt128(Encoding.UTF8.GetBytes(description.ToCanonicalText())));
    }

    /// <inheritdoc />
    public override string ToString() => Hex;
}
