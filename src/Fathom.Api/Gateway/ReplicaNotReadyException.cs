namespace Fathom.Api.Gateway;

/// <summary>
/// A replica answered 503 before any byte reached the client: it is loading or draining and did not accept the
/// request, so the request may be sent to another replica (an engine only answers 503 before it starts work).
/// </summary>
internal sealed class ReplicaNotReadyException(string message)
    : HttpRequestException(message, null, System.Net.HttpStatusCode.ServiceUnavailable);
