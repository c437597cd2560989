using Fathom.Engine.Model;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Model;

/// <summary>llama-2-tiny-random (F16 matrices, 32000-token vocabulary): our forward pass against llama.cpp.</summary>
public sealed class TinyRandomParityTests
{
    public static TheoryData<ComputeBackendKind> Backends => [ComputeBackendKind.Reference, ComputeBackendKind.Cpu];

    private static string ModelPath => SharedFixtures.Default.GetPath(SharedFixtures.LlamaTinyRandom);

    [Theory]
    [MemberData(nameof(Backends))]
    public void Greedy_64_tokens_match_llama_cpp(ComputeBackendKind backend)
    {
        using var oracle = new LlamaCppOracle(ModelPath);
        using var model = LlamaModel.Load(ModelPath, new ModelLoadOptions { Backend = backend, Threads = 2, KvBlockCount = 8 });
        int[] prompt = [1, 9038, 2501, 263, 931];
        Assert.Equal(oracle.Greedy(prompt, 64), ModelRunner.Greedy(model, prompt, 64));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Last_position_logits_match_llama_cpp_at_several_prompts(ComputeBackendKind backend)
    {
        using var oracle = new LlamaCppOracle(ModelPath);
        using var model = LlamaModel.Load(ModelPath, new ModelLoadOptions { Backend = backend, Threads = 2, KvBlockCount = 8 });
        int[][] prompts =
        [
            [1, 9038, 2501, 263, 931],
            [1],
            Enumerable.Range(0, 50).Select(i => 1 + ((i * 7919) % 31999)).ToArray(),
        ];
        foreach (var prompt in prompts)
        {
            var expected = oracle.LastLogits(prompt);
            var actual = ModelRunner.LastLogits(model, prompt);
            var error = ModelRunner.RelativeError(actual, expected);
            Assert.True(error < 1e-3, $"prompt of {prompt.Length}: relative error {error:E3}");
        }
    }
}
