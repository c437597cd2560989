using System.Globalization;
using System.Runtime.InteropServices;
using Fathom.KvCache.Garnet;

// The embedded KV cache as a process (the AppHost's project resource when no Redis is configured):
//   Fathom.KvCache.Garnet [--port N] [--bind ADDR] [garnet options…]
// Port and address also come from KVCACHE_PORT / KVCACHE_BIND (or PORT); stops on SIGTERM or Ctrl+C.
int port = 6379;
string bind = "127.0.0.1";
var garnetArguments = new List<string>();
if (int.TryParse(Environment.GetEnvironmentVariable("KVCACHE_PORT") ?? Environment.GetEnvironmentVariable("PORT"), CultureInfo.InvariantCulture, out int envPort))
{
    port = envPort;
}

bind = Environment.GetEnvironmentVariable("KVCACHE_BIND") ?? bind;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out int argPort):
            port = argPort;
            i++;
            break;
        case "--port":
            Console.Error.WriteLine("error: --port needs a number");
            return 2;
        case "--bind" when i + 1 < args.Length:
            bind = args[++i];
            break;
        default:
            garnetArguments.Add(args[i]);
            break;
    }
}

EmbeddedGarnetServer server;
try
{
    server = EmbeddedGarnetServer.Start(port, bind, garnetArguments.Count > 0 ? garnetArguments : null);
}
#pragma warning disable CA1031 // Any start failure becomes a one-line message and a non-zero exit.
catch (Exception ex)
#pragma warning restore CA1031
{
    Console.Error.WriteLine($"error: cannot start the KV cache server on {bind}:{port}: {ex.Message}");
    return 1;
}

var stop = new TaskCompletionSource();
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
Console.WriteLine($"Fathom KV cache (Garnet) listening on {server.ConnectionString}");
await stop.Task.ConfigureAwait(false);
server.Dispose();
Console.WriteLine("Fathom KV cache stopped");
return 0;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.TrySetResult();
}
