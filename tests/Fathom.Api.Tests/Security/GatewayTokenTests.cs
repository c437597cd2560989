using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fathom.Api.Security;
using Fathom.Testing;

namespace Fathom.Api.Tests.Security;

/// <summary>Engines only behind the API: a real engine with a gateway token, and real API processes in front (issue 19, point 2).</summary>
public sealed class GatewayTokenTests
{
    private const string Token = "gateway-token-for-tests-0123456789";
    private const string Key = "sk-fathom-gateway-test";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_engine_with_a_token_refuses_requests_without_it_keeps_probes_open_and_serves_the_api_that_sends_it()
    {
        await using var engine = await EngineServiceProcess.StartAsync(environment: new Dictionary<string, string?> { ["Fathom__GatewayToken"] = Token });
        object chat = new { model = SharedFixtures.Stories260KName, max_tokens = 4, messages = new[] { new { role = "user", content = "Once" } } };

        // Straight at the engine: no token, a wrong one, or an API key is a 401 in OpenAI's shape.
        foreach (string? presented in new[] { null, "wrong", Token + "x", Key })
        {
            using var direct = new HttpClient { BaseAddress = engine.BaseAddress };
            if (presented is not null)
            {
                direct.DefaultRequestHeaders.Authorization = new("Bearer", presented);
            }

            using var response = await direct.PostAsJsonAsync("/v1/chat/completions", chat, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var error = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("error");
            Assert.Equal("invalid_gateway_token", error.GetProperty("code").GetString());
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            Assert.Equal(HttpStatusCode.Unauthorized, (await direct.GetAsync("/v1/models", Ct)).StatusCode);
        }

        using (var probe = new HttpClient { BaseAddress = engine.BaseAddress })
        {
            Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync("/health/ready", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync("/alive", Ct)).StatusCode);
            Assert.Contains("fathom_engine", await probe.GetStringAsync("/metrics", Ct));
        }

        var environment = new Dictionary<string, string?>
        {
            ["Fathom__Api__KeyHashes__0"] = ApiKeys.Hash(Key),
            ["Fathom__Api__HealthCheckInterval"] = "00:00:01",
        };

        // The API without the token: its clients' keys are not the engine's business, so the engine refuses it.
        await using (var untokened = await ApiServiceProcess.StartAsync([engine.BaseAddress], environment))
        {
            using var http = Client(untokened);
            using var refused = await http.PostAsJsonAsync("/v1/chat/completions", chat, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // With it: completions and the model list (asked of each replica by the API itself) pass.
        environment["Fathom__GatewayToken"] = Token;
        await using var api = await ApiServiceProcess.StartAsync([engine.BaseAddress], environment);
        using (var http = Client(api))
        {
            using var completion = await http.PostAsJsonAsync("/v1/chat/completions", chat, Ct);
            Assert.True(completion.StatusCode == HttpStatusCode.OK, await completion.Content.ReadAsStringAsync(Ct));
            var models = await http.GetFromJsonAsync<JsonElement>("/v1/models", Ct);
            Assert.Equal(SharedFixtures.Stories260KName, models.GetProperty("data")[0].GetProperty("id").GetString());
        }
    }

    [Fact]
    public async Task While_the_token_is_rotated_an_engine_accepts_the_new_and_the_previous_one_and_nothing_else()
    {
        const string previous = "gateway-token-before-rotation-0123456789";
        await using var engine = await EngineServiceProcess.StartAsync(environment: new Dictionary<string, string?>
        {
            ["Fathom__GatewayToken"] = Token,
            ["Fathom__PreviousGatewayToken"] = previous,
        });

        foreach (var (presented, expected) in new (string?, HttpStatusCode)[]
        {
            (Token, HttpStatusCode.OK),
            (previous, HttpStatusCode.OK),
            (null, HttpStatusCode.Unauthorized),
            ("gateway-token-after-rotation-0123456789", HttpStatusCode.Unauthorized),
        })
        {
            using var http = new HttpClient { BaseAddress = engine.BaseAddress };
            if (presented is not null)
            {
                http.DefaultRequestHeaders.Authorization = new("Bearer", presented);
            }

            using var response = await http.GetAsync("/v1/models", Ct);
            Assert.True(expected == response.StatusCode, $"{presented ?? "(none)"}: {response.StatusCode}");
        }
    }

    private static HttpClient Client(ServiceProcess api)
    {
        var http = new HttpClient { BaseAddress = api.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", Key);
        return http;
    }
}
