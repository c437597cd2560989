using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Fathom.AppHost.Tests.Deployment;

public sealed partial class PublishManifestTests
{
    [Fact]
    public async Task The_manifest_has_a_redis_container_the_engine_the_api_and_the_parameters()
    {
        var manifest = await PublishAsync(TestContext.Current.CancellationToken);
        var resources = manifest["resources"]!.AsObject();

        var kvcache = resources["kvcache"]!;
        Assert.Equal("container.v0", kvcache["type"]!.GetValue<string>());
        Assert.Contains("redis", kvcache["image"]!.GetValue<string>());
        Assert.Contains("--maxmemory-policy allkeys-lru", string.Join(' ', kvcache["args"]!.AsArray().Select(a => a!.GetValue<string>())));

        Assert.Equal("parameter.v0", resources["model"]!["type"]!.GetValue<string>());
        Assert.Equal("auto", resources["backend"]!["inputs"]!["value"]!["default"]!["value"]!.GetValue<string>());
        // The id the README's Semantic Kernel snippet sends.
        Assert.Equal("deepseek-r1-distill-llama-70b", resources["served-model-name"]!["inputs"]!["value"]!["default"]!["value"]!.GetValue<string>());

        // One engine service in a deployment: the platform scales it (docs/deployment.md).
        Assert.DoesNotContain("engine-0", resources.Select(r => r.Key));
        var engineEnv = resources["engine"]!["env"]!;
        Assert.Equal("project.v0", resources["engine"]!["type"]!.GetValue<string>());
        Assert.Equal("{model.value}", engineEnv["Fathom__Model"]!.GetValue<string>());
        Assert.Equal("{served-model-name.value}", engineEnv["Fathom__ServedModelName"]!.GetValue<string>());
        Assert.Equal("{backend.value}", engineEnv["Fathom__Backend"]!.GetValue<string>());
        Assert.Equal("{kvcache.connectionString}", engineEnv["ConnectionStrings__kvcache"]!.GetValue<string>());

        var api = resources["api"]!;
        Assert.Equal("{engine.bindings.http.url}", api["env"]!["services__engine__http__0"]!.GetValue<string>());
        Assert.True(api["bindings"]!["http"]!["external"]!.GetValue<bool>());
        Assert.Null(resources["engine"]!["bindings"]!["http"]!["external"]);

        // The sample answers once and exits: a local demo, not something a platform should keep restarting.
        Assert.Null(resources["chat"]);
    }

    [Fact]
    public async Task The_api_key_hash_and_the_gateway_token_come_from_secret_parameters_and_metrics_from_an_internal_port()
    {
        var manifest = await PublishAsync(TestContext.Current.CancellationToken);
        var resources = manifest["resources"]!.AsObject();
        var apiEnv = resources["api"]!["env"]!;
        var engineEnv = resources["engine"]!["env"]!;

        // The deployment holds the key's hash only, asked for at deploy time (no default: it must be given).
        var keyHash = resources["api-key-sha256"]!;
        Assert.Equal("parameter.v0", keyHash["type"]!.GetValue<string>());
        Assert.True(keyHash["inputs"]!["value"]!["secret"]!.GetValue<bool>());
        Assert.Null(keyHash["inputs"]!["value"]!["default"]);
        Assert.Null(resources["api-key"]);
        Assert.Equal("{api-key-sha256.value}", apiEnv["Fathom__Api__KeyHashes__0"]!.GetValue<string>());

        // One generated secret shared by the API and the engine.
        var token = resources["gateway-token"]!["inputs"]!["value"]!;
        Assert.True(token["secret"]!.GetValue<bool>());
        Assert.True(token["default"]!["generate"]!["minLength"]!.GetValue<int>() >= 32);
        Assert.Equal("{gateway-token.value}", apiEnv["Fathom__GatewayToken"]!.GetValue<string>());
        Assert.Equal("{gateway-token.value}", engineEnv["Fathom__GatewayToken"]!.GetValue<string>());

        // Every secret-looking value is a reference, never a literal.
        foreach (var (name, value) in apiEnv.AsObject().Concat(engineEnv.AsObject()))
        {
            if (name.Contains("Key", StringComparison.Ordinal) || name.Contains("Token", StringComparison.Ordinal))
            {
                Assert.Matches("^\\{[a-z0-9-]+\\.value\\}$", value!.GetValue<string>());
            }
        }

        // /metrics and /health: the API's second, internal port, which it listens on and knows as its management port.
        var management = resources["api"]!["bindings"]!["management"]!;
        Assert.Null(management["external"]);
        Assert.Equal(8081, management["targetPort"]!.GetValue<int>());
        Assert.Equal("{api.bindings.management.targetPort}", apiEnv["Fathom__Api__ManagementPort"]!.GetValue<string>());
        Assert.Contains("{api.bindings.management.targetPort}", apiEnv["HTTP_PORTS"]!.GetValue<string>());
    }

    private static async Task<JsonNode> PublishAsync(CancellationToken ct, params string[] arguments)
    {
        var output = Directory.CreateTempSubdirectory("fathom-manifest-");
        try
        {
            // The built AppHost itself, as `dotnet run --project AppHost -- --publisher manifest` runs it.
            var appHost = Path.Combine(AppContext.BaseDirectory, "Fathom.AppHost.dll");
            var start = new ProcessStartInfo("dotnet", [appHost, "--publisher", "manifest", "--output-path", output.FullName, .. arguments])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = AppContext.BaseDirectory,
            };
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, $"publish failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");

            return JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output.FullName, "aspire-manifest.json"), ct))!;
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
