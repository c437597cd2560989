using System.Net;
using System.Text;
using Fathom.Testing;

namespace Fathom.Api.Tests.Gateway;

/// <summary>
/// A stand-in replica whose chat streams send one event and then stay open until <see cref="ReleaseAll"/>: the
/// concurrency limit's tests need streams that last exactly as long as the test says, which a real engine on
/// stories260K cannot promise. Probes and /metrics answer 200.
/// </summary>
internal sealed class HeldStreamReplica : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _serving;
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public HeldStreamReplica()
    {
        Address = new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}");
        _listener.Prefixes.Add(Address + "/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public Uri Address { get; }

    /// <summary>Ends every open stream, and the ones that come later, at once.</summary>
    public void ReleaseAll() => _release.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        ReleaseAll();
        _listener.Stop();
        await _serving;
        _listener.Close();
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            if (context.Request.Url!.AbsolutePath != "/v1/chat/completions")
            {
                response.Close();
                return;
            }

            response.ContentType = "text/event-stream";
            response.SendChunked = true;
            await Write(response, """data: {"id":"held","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"x"}}]}""");
            await _release.Task;
            await Write(response, "data: [DONE]");
            response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The gateway went away mid-stream (a test kills it on purpose).
        }
    }

    private static async Task Write(HttpListenerResponse response, string line)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(line + "\n\n");
        await response.OutputStream.WriteAsync(bytes);
        await response.OutputStream.FlushAsync();
    }
}
