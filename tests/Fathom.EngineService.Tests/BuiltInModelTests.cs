using System.Security.Cryptography;
using Fathom.Engine.Sampling;
using Fathom.Engine.Scheduling;
using Fathom.Engine.Serving;

namespace Fathom.EngineService.Tests;

/// <summary>The synthetic model served when nothing else is available: same bytes everywhere, and it runs.</summary>
public sealed class BuiltInModelTests
{
    [Fact]
    public async Task The_synthetic_model_is_deterministic_and_serves_tokens()
    {
        string a = Path.Combine(Path.GetTempPath(), $"fathom-synthetic-{Guid.NewGuid():N}.gguf");
        string b = Path.Combine(Path.GetTempPath(), $"fathom-synthetic-{Guid.NewGuid():N}.gguf");
        try
        {
            SyntheticModel.Write(a);
            SyntheticModel.Write(b);
            Assert.Equal(SHA256.HashData(await File.ReadAllBytesAsync(a, TestContext.Current.CancellationToken)),
                SHA256.HashData(await File.ReadAllBytesAsync(b, TestContext.Current.CancellationToken)));

            using var model = ServedModel.Load(a, new ServedModelOptions { Threads = 1, KvCacheMemoryBytes = 4 << 20 });
            using var engine = EngineHostFactory.Create(model);
            int[] prompt = model.EncodePrompt("hello world");
            var outputs = await engine.SubmitAsync(new EngineRequest("t", prompt, new SamplingParams { Temperature = 0, MaxTokens = 8, IgnoreEos = true }),
                TestContext.Current.CancellationToken);
            int count = 0;
            await foreach (var output in outputs.Outputs.ReadAllAsync(TestContext.Current.CancellationToken))
            {
                count++;
            }

            Assert.Equal(8, count);
            Assert.Equal("fathom-synthetic", model.Name[..16]);
            Assert.Equal(1024, model.MaxModelLength);
        }
        finally
        {
            File.Delete(a);
            File.Delete(b);
        }
    }
}
