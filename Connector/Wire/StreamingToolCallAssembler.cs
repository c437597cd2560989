using System.Text;
using Microsoft.Extensions.AI;

namespace Fathom.Connector.Wire;

/// <summary>
/// Collects streamed tool-call deltas (keyed by their <c>index</c>; id and name come first, the arguments JSON
/// arrives in fragments) until the stream says the calls are complete.
/// </summary>
internal sealed class StreamingToolCallAssembler
{
    private readonly SortedDictionary<int, PendingCall> _calls = [];

    public bool HasCalls => _calls.Count > 0;

    public void Add(WireToolCall delta)
    {
        var index = delta.Index ?? _calls.Count;
        if (!_calls.TryGetValue(index, out var call))
        {
            call = new PendingCall();
            _calls[index] = call;
        }

        if (!string.IsNullOrEmpty(delta.Id))
        {
            call.Id = delta.Id;
        }

        if (!string.IsNullOrEmpty(delta.Function?.Name))
        {
            call.Name ??= delta.Function.Name;
        }

        if (delta.Function?.Arguments is { } fragment)
        {
            call.Arguments.Append(fragment);
        }
    }

    /// <summary>Returns the completed calls in index order and forgets them.</summary>
    public List<AIContent> Complete()
    {
        var result = new List<AIContent>(_calls.Count);
        foreach (var call in _calls.Values)
        {
            result.Add(ChatResponseMapper.ToFunctionCall(call.Id, call.Name, call.Arguments.ToString()));
        }

        _calls.Clear();
        return result;
    }

    private sealed class PendingCall
    {
        public string? Id { get; set; }

        public string? Name { get; set; }

        public StringBuilder Arguments { get; } = new();
    }
}
