using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Fathom.Testing;

/// <summary>
/// A Fathom service (or any built .NET app) run as a real child process on a loopback port, the way
/// users run it: <c>dotnet X.dll --urls http://127.0.0.1:PORT</c>. Output is captured for failure messages.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri BaseAddress { get; }

    /// <summary>The process id (tests that kill a replica use it).</summary>
    public int ProcessId => _process.Id;

    /// <summary>True while the process runs.</summary>
    public bool IsRunning => !_process.HasExited;

    /// <summary>Everything the process printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="assemblyFileName"/> (found beside the test binaries) on a free loopback port and
    /// waits until <paramref name="readyPath"/> answers 200. <paramref name="morePorts"/>: more loopback ports it
    /// listens on as well (a management port).
    /// </summary>
    public static async Task<ServiceProcess> StartAsync(
        string assemblyFileName,
        IEnumerable<string>? args = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        string readyPath = "/health",
        TimeSpan? timeout = null,
        int? port = null,
        IEnumerable<int>? morePorts = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, assemblyFileName);
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{assemblyFileName} is not beside the test binaries; reference its project", dll);
        }

        var boundPort = port ?? FreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{boundPort}/");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add(string.Join(';', [baseAddress.ToString().TrimEnd('/'), .. (morePorts ?? []).Select(p => $"http://127.0.0.1:{p}")]));
        foreach (var a in args ?? [])
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        psi.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
        {
            psi.Environment[k] = v;
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {dll}");
        var service = new ServiceProcess(process, baseAddress);
        try
        {
            await service.WaitUntilReadyAsync(readyPath, timeout ?? TimeSpan.FromSeconds(90));
            return service;
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls <paramref name="path"/> until it answers 200, the process exits, or the timeout passes.</summary>
    public async Task WaitUntilReadyAsync(string path, TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"service exited with code {_process.ExitCode} before it was ready:\n{Output}");
            }
            try
            {
                using var response = await http.GetAsync(path);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"service not ready at {BaseAddress}{path.TrimStart('/')} after {timeout}:\n{Output}");
    }

    /// <summary>Kills the process (and its children) at once, as a crash would.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>Waits for the process to end on its own (e.g. after SIGTERM); its exit code, or null if it still runs after <paramref name="timeout"/>.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>A TCP port that was free a moment ago on 127.0.0.1.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
