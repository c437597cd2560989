using System.Text.Json;

namespace Fathom.OpenAi.Protocol.Tests;

/// <summary>The error envelope and the models list, as the engine service wrote them by hand.</summary>
public sealed class ErrorAndModelShapeTests
{
    [Fact]
    public void Errors_always_write_param_and_code()
    {
        Assert.Equal(
            """{"error":{"message":"'prompt' is required.","type":"invalid_request_error","param":"prompt","code":null}}""",
            Wire.Json(ErrorResponse.Create("'prompt' is required.", ErrorTypes.InvalidRequest, "prompt"), OpenAiJsonContext.Wire.ErrorResponse));
        Assert.Equal(
            """{"error":{"message":"m","type":"server_error","param":null,"code":"replica_failed"}}"""u8.ToArray(),
            ErrorResponse.Create("m", ErrorTypes.Server, param: null, "replica_failed").ToUtf8Json());
    }

    [Fact]
    public async Task WriteAsync_writes_the_same_bytes_as_ToUtf8Json()
    {
        var error = ErrorResponse.Create("The model 'nope' does not exist.", ErrorTypes.InvalidRequest, "model", "model_not_found");
        using var body = new MemoryStream();

        await error.WriteAsync(body, TestContext.Current.CancellationToken);

        Assert.Equal(error.ToUtf8Json(), body.ToArray());
    }

    [Fact]
    public void The_models_list_reads_back_what_it_writes()
    {
        var list = new ModelList { Data = [new ModelCard { Id = "stories260K", Created = 0, OwnedBy = "fathom", MaxModelLength = 2048 }] };
        string json = Wire.Json(list, OpenAiJsonContext.Wire.ModelList);

        Assert.Equal("""{"object":"list","data":[{"id":"stories260K","object":"model","created":0,"owned_by":"fathom","max_model_len":2048}]}""", json);
        Assert.Equal(list.Data, JsonSerializer.Deserialize(json, OpenAiJsonContext.Wire.ModelList)!.Data);
    }

    [Fact]
    public void Omittable_usage_reads_null_as_written_and_absent_as_omitted()
    {
        var withNull = JsonSerializer.Deserialize("""{"id":"a","created":1,"model":"m","choices":[],"usage":null}""", OpenAiJsonContext.Wire.CompletionChunk)!;
        var without = JsonSerializer.Deserialize("""{"id":"a","created":1,"model":"m","choices":[]}""", OpenAiJsonContext.Wire.CompletionChunk)!;

        Assert.True(withNull.Usage.IsWritten);
        Assert.Null(withNull.Usage.Value);
        Assert.False(without.Usage.IsWritten);
    }
}
