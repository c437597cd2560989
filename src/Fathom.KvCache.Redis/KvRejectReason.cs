namespace Fathom.KvCache.Redis;

/// <summary>Why a stored value was not used (the <c>reason</c> tag of the rejected-entries counter).</summary>
public enum KvRejectReason
{
    /// <summary>Shorter or longer than its header says, or shorter than a header.</summary>
    Truncated,

    /// <summary>Not a Fathom KV block value.</summary>
    BadMagic,

    /// <summary>A format version this build does not read.</summary>
    UnsupportedVersion,

    /// <summary>Written for another model.</summary>
    WrongFingerprint,

    /// <summary>Holds another block than its key names.</summary>
    WrongBlockHash,

    /// <summary>Header fields out of range (unknown flags, reserved bytes set, a chunk count that does not follow from the payload length and chunk size).</summary>
    BadHeader,

    /// <summary>Layers, tokens, dtype or payload size differ from the model's block shape.</summary>
    WrongShape,

    /// <summary>Checksum over header and payload does not match (corruption).</summary>
    ChecksumMismatch,

    /// <summary>An HMAC key is configured and the value carries no HMAC.</summary>
    HmacMissing,

    /// <summary>The HMAC does not match the configured key (foreign or poisoned entry).</summary>
    HmacMismatch,

    /// <summary>A chunk of a chunked value is gone (evicted or expired separately).</summary>
    MissingChunk,
}
