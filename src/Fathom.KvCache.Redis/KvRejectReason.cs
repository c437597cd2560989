namespace Fathom.KvCache.Redis;

/// <summary>Why a stored value was not used (the <c>reason</c> tag of the rejected-entries counter).</summary>
public enum KvRejectReason
{
    /// <summary>Shorter than its header says, or than a header.</summary>
    Truncated,

    /// <summary>Not a Fathom KV block value.</summary>
    BadMagic,

    /// <summary>A format version this build does not read.</summary>
    UnsupportedVersion,

    /// <summary>Written for another model.</summary>
    WrongFingerprint,

    /// <summary>Holds another block than its key names.</summary>
    WrongBlockHash,

    /// <summary>Header fields out of range (negative counts, payload length not matching the chunks).</summary>
    BadHeader,

    /// <summary>Checksum over header and payload does not match (corruption).</summary>
    ChecksumMismatch,

    /// <summary>An HMAC key is configured and the value carries no HMAC.</summary>
    HmacMissing,

    /// <summary>The HMAC does not match the configured key (foreign or poisoned entry).</summary>
    HmacMismatch,

    /// <summary>A chunk of a chunked value is gone (evicted or expired separately).</summary>
    MissingChunk,
}
