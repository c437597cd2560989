using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Fathom.Testing;

namespace Fathom.Api.Tests;

public sealed class PlanEndpointsTests
{
    [Fact]
    public async Task Get_and_post_v1_plan_answer_the_same_plan_and_bad_input_is_a_400()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var service = await ServiceProcess.StartAsync(ApiServiceProcess.AssemblyFileName);
        using var http = new HttpClient { BaseAddress = service.BaseAddress };

        using var get = await http.GetAsync("/v1/plan?model=deepseek-r1-distill-llama-70b&weights=fp8&gpu=h100-sxm&concurrency=16", ct);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        using var fromGet = JsonDocument.Parse(await get.Content.ReadAsStringAsync(ct));
        Assert.Equal(327_680, fromGet.RootElement.GetProperty("kv_bytes_per_token").GetInt64());
        Assert.Equal(1, fromGet.RootElement.GetProperty("min_gpus").GetInt32());

        using var post = await http.PostAsync("/v1/plan", new StringContent(
            """{"model":"deepseek-r1-distill-llama-70b","weights":"fp8","gpu":"h100-sxm","concurrency":16}""", System.Text.Encoding.UTF8, "application/json"), ct);
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        using var fromPost = JsonDocument.Parse(await post.Content.ReadAsStringAsync(ct));
        Assert.Equal(fromGet.RootElement.GetProperty("aggregate_tok_s").GetDouble(), fromPost.RootElement.GetProperty("aggregate_tok_s").GetDouble());
        Assert.Equal(fromGet.RootElement.GetProperty("weights_bytes").GetInt64(), fromPost.RootElement.GetProperty("weights_bytes").GetInt64());

        foreach (var (bad, expected) in new[] { ("/v1/plan?model=nope&gpu=h100-sxm", "unknown model"), ("/v1/plan?model=llama-3.1-8b", "'gpu' is required"), ("/v1/plan?model=llama-3.1-8b&gpu=h100&context=lots", "not a number") })
        {
            using var response = await http.GetAsync(bad, ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var error = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            Assert.Contains(expected, error.GetProperty("error").GetProperty("message").GetString());
        }

        using var badBody = await http.PostAsync("/v1/plan", new StringContent("{\"gpu\":\"h100\"}", System.Text.Encoding.UTF8, "application/json"), ct);
        Assert.Equal(HttpStatusCode.BadRequest, badBody.StatusCode);
    }

    [Fact]
    public async Task Planner_errors_use_the_full_OpenAI_envelope()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var service = await ServiceProcess.StartAsync("Fathom.Api.dll");
        using var http = new HttpClient { BaseAddress = service.BaseAddress };

        using var response = await http.PostAsync("/v1/plan", new StringContent("", System.Text.Encoding.UTF8, "application/json"), ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("error");
        Assert.Equal(["message", "type", "param", "code"], error.EnumerateObject().Select(p => p.Name));
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        Assert.Equal(JsonValueKind.Null, error.GetProperty("code").ValueKind);
    }
}
