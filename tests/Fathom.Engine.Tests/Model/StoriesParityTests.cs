using Fathom.Engine.Model;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Model;

/// <summary>stories260K (F32, GQA 8/4): our forward pass against llama.cpp on the same file.</summary>
public sealed class StoriesParityTests
{
    // "Once upon a time" with BOS, as llama.cpp tokenizes it.
    private static readonly int[] OnceUponATime = [1, 403, 407, 261, 378];

    public static TheoryData<ComputeBackendKind> Backends => [ComputeBackendKind.Reference, ComputeBackendKind.Cpu];

    private static string ModelPath => SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);

    [Theory]
    [MemberData(nameof(Backends))]
    public void Greedy_64_tokens_match_llama_cpp(ComputeBackendKind backend)
    {
        using var oracle = new LlamaCppOracle(ModelPath);
        using var model = LlamaModel.Load(ModelPath, new ModelLoadOptions { Backend = backend, Threads = 2, KvBlockCount = 8 });
        var expected = oracle.Greedy(OnceUponATime, 64);
        var actual = ModelRunner.Greedy(model, OnceUponATime, 64);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void Last_position_logits_match_llama_cpp_at_several_prompts(ComputeBackendKind backend)
    {
        using var oracle = new LlamaCppOracle(ModelPath);
        using var model = LlamaModel.Load(ModelPath, new ModelLoadOptions { Backend = backend, Threads = 2, KvBlockCount = 8 });
        int[][] prompts =
        [
            OnceUponATime,
            [1],
            [1, 403, 407, 261, 378, 432, 471, 303, 264, 330, 412, 285, 284, 280, 332, 350, 470, 261],
            Enumerable.Range(0, 40).Select(i => 1 + ((i * 37) % 500)).ToArray(),
        ];
        foreach (var prompt in prompts)
        {
            var expected = oracle.LastLogits(prompt);
            var actual = ModelRunner.LastLogits(model, prompt);
            Assert.True(ModelRunner.RelativeError(actual, expected) < 1e-3,
                $"prompt of {prompt.Length}: relative error {ModelRunner.RelativeError(actual, expected):E3}");
        }
    }

    [Fact]
    public void Known_first_token_is_comma_with_llama_cpp_logit()
    {
        using var model = LlamaModel.Load(ModelPath, new ModelLoadOptions { Backend = ComputeBackendKind.Reference, KvBlockCount = 1 });
        var logits = ModelRunner.LastLogits(model, OnceUponATime);
        Assert.Equal(432, model.ArgMax(logits));
        Assert.InRange(logits[432], 17.79f, 17.81f);
    }
}
