using Fathom.Testing;
using System.Net;
using System.Net.Http.Json;

namespace Fathom.Api.Tests.Gateway;

[Collection(nameof(EngineReplicas))]
public sealed class ServerErrorFailoverTests(EngineReplicas replicas)
{
    [Fact]
    public async Task A_replica_answering_503_before_the_first_byte_is_retried_on_another_replica()
    {
        var ct = TestContext.Current.CancellationToken;
        replicas.Require();
        using var failing = new HttpListener();
        int port = ServiceProcess.FreePort();
        string failingAddress = $"http://127.0.0.1:{port}";
        failing.Prefixes.Add(failingAddress + "/");
        failing.Start();
        int failedRequests = 0;
        var serve = Task.Run(async () =>
        {
            while (failing.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await failing.GetContextAsync();
                }
                catch (HttpListenerException)
                {
                    return;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }

                if (context.Request.Url!.AbsolutePath.StartsWith("/v1/", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref failedRequests);
                    context.Response.StatusCode = 503;
                }

                context.Response.Close();
            }
        }, ct);

        string survivor = replicas.A.BaseAddress.ToString().TrimEnd('/');
        await using var api = await EngineReplicas.StartApiAsync([new Uri(failingAddress), replicas.A.BaseAddress]);
        using var http = EngineReplicas.Http(api);
        for (int c = 0; c < 8; c++)
        {
            using var response = await http.PostAsJsonAsync("/v1/chat/completions", new
            {
                model = SharedFixtures.Stories260KName,
                max_tokens = 2,
                messages = new[] { new { role = "user", content = $"Tell me story number {c}." } },
            }, ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(survivor, response.Headers.GetValues("x-fathom-replica").Single().TrimEnd('/'));
        }

        // Some conversations hashed to the failing replica, were answered 503 there, and were retried.
        Assert.True(Volatile.Read(ref failedRequests) > 0, "no request reached the failing replica");
        failing.Stop();
        await serve;
    }
}
