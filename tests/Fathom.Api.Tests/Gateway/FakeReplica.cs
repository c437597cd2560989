using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Fathom.Testing;

namespace Fathom.Api.Tests.Gateway;

/// <summary>
/// An HTTP listener standing in for an engine replica: healthy on <c>/health/*</c>, and every <c>/v1/*</c> request
/// counted, its body recorded, and answered with <c>status</c> and <c>body</c> (an OpenAI error or a minimal completion).
/// </summary>
internal sealed class FakeReplica : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _serve;
    private int _requests;

    public FakeReplica(int status, string body)
    {
        Address = new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}");
        _listener.Prefixes.Add(Address.ToString());
        _listener.Start();
        _serve = Task.Run(() => ServeAsync(status, Encoding.UTF8.GetBytes(body)));
    }

    public Uri Address { get; }

    /// <summary>The <c>/v1/*</c> requests this replica has seen.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The bodies of the <c>/v1/*</c> requests this replica has seen, as forwarded to it.</summary>
    public ConcurrentQueue<string> Bodies { get; } = new();

    private async Task ServeAsync(int status, byte[] body)
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            if (context.Request.Url!.AbsolutePath.StartsWith("/v1/", StringComparison.Ordinal))
            {
                using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
                {
                    Bodies.Enqueue(await reader.ReadToEndAsync());
                }

                Interlocked.Increment(ref _requests);
                context.Response.StatusCode = status;
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(body);
            }

            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _serve;
        _listener.Close();
    }
}
