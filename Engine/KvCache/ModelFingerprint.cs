using System.IO.Hashing;
using System.Text;

namespace Fathom.Engine.KvCache;

/// <summary>
/// Identifies everything that makes two models' K/V differ for the same tokens (weights, architecture,
/// KV dtype, block size…). Mixed into every <see cref="BlockHash"/> so models never share blocks.
/// </summary>
/// <param name="Value">The fingerprint bits.</param>
public readonly record struct ModelFingerprint(UInt128 Value)
{
    /// <summary>A fingerprint of arbitrary identifying bytes.</summary>
    public static ModelFingerprint Of(ReadOnlySpan<byte> identity) => new(XxHash128.HashToUInt128(identity));

    /// <summary>A fingerprint of an identifying string (UTF-8).</summary>
    public static ModelFingerprint Of(string identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return Of(Encoding.UTF8.GetBytes(identity));
    }
}
