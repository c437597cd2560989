namespace Fathom.Engine.Serving;

/// <summary>
/// Follows one end-of-reasoning marker (<c>&lt;/think&gt;</c>) through generated tokens byte by byte (a KMP automaton,
/// so a marker cut across tokens is found), and lists, per partial match, the tokens that complete it with bytes to
/// spare: those bytes already belong to the constrained answer. Immutable once built; shared by every request.
/// </summary>
internal sealed class ReasoningMarkerTable
{
    private readonly byte[] _marker;
    private readonly int[] _fallback; // KMP failure function: longest proper border of marker[..i+1]
    private readonly byte[]?[] _tokens;
    private readonly (int Token, int Remainder)[]?[] _crossing; // per state, built on first use

    public ReasoningMarkerTable(string marker, byte[]?[] tokenBytes)
    {
        _marker = System.Text.Encoding.UTF8.GetBytes(marker);
        _tokens = tokenBytes;
        _fallback = new int[_marker.Length];
        for (int i = 1, k = 0; i < _marker.Length; i++)
        {
            while (k > 0 && _marker[i] != _marker[k])
            {
                k = _fallback[k - 1];
            }

            k += _marker[i] == _marker[k] ? 1 : 0;
            _fallback[i] = k;
        }

        _crossing = new (int, int)[]?[_marker.Length];
    }

    /// <summary>The marker's text.</summary>
    public string Marker => System.Text.Encoding.UTF8.GetString(_marker);

    /// <summary>The bytes of <paramref name="tokenId"/> (null for a token that writes none).</summary>
    public byte[]? BytesOf(int tokenId) => (uint)tokenId < (uint)_tokens.Length ? _tokens[tokenId] : null;

    /// <summary>Tokens in the vocabulary.</summary>
    public int TokenCount => _tokens.Length;

    /// <summary>
    /// Runs <paramref name="bytes"/> from partial match <paramref name="state"/>: the new partial match, or, when the
    /// marker completes, -1 and the index just past it in <paramref name="rest"/>.
    /// </summary>
    public int Advance(int state, ReadOnlySpan<byte> bytes, out int rest)
    {
        rest = -1;
        for (int i = 0; i < bytes.Length; i++)
        {
            while (state > 0 && bytes[i] != _marker[state])
            {
                state = _fallback[state - 1];
            }

            if (bytes[i] == _marker[state] && ++state == _marker.Length)
            {
                rest = i + 1;
                return -1;
            }
        }

        return state;
    }

    /// <summary>The tokens that complete the marker from partial match <paramref name="state"/>, with where their remaining bytes start.</summary>
    public ReadOnlySpan<(int Token, int Remainder)> Crossing(int state)
    {
        var list = Volatile.Read(ref _crossing[state]);
        if (list is null)
        {
            var found = new List<(int, int)>();
            for (int id = 0; id < _tokens.Length; id++)
            {
                if (_tokens[id] is { } bytes && Advance(state, bytes, out int rest) < 0)
                {
                    found.Add((id, rest));
                }
            }

            list = [.. found];
            Volatile.Write(ref _crossing[state], list);
        }

        return list;
    }
}
