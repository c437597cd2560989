using Fathom.Engine.Model;
using Fathom.Engine.Serving;
using Fathom.Gguf;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Model;

/// <summary>A gguf-split model loaded through its first part runs exactly like the single file it was split from.</summary>
public sealed class SplitModelTests : IDisposable
{
    private static readonly int[] OnceUponATime = [1, 403, 407, 261, 378];

    private readonly string _dir = Directory.CreateTempSubdirectory("fathom-split-model-").FullName;
    private readonly string _single = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);

    public static TheoryData<ComputeBackendKind> Backends => [ComputeBackendKind.Reference, ComputeBackendKind.Cpu];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [MemberData(nameof(Backends))]
    public void Greedy_tokens_and_logits_equal_the_single_file(ComputeBackendKind backend)
    {
        var parts = Split(3);
        var options = new ModelLoadOptions { Backend = backend, Threads = 2, KvBlockCount = 8 };
        using var single = LlamaModel.Load(_single, options);
        using var split = LlamaModel.Load(parts[0], options);

        Assert.Equal(ModelRunner.LastLogits(single, OnceUponATime), ModelRunner.LastLogits(split, OnceUponATime));
        var expected = ModelRunner.Greedy(single, OnceUponATime, 48);
        Assert.Equal(expected, ModelRunner.Greedy(split, OnceUponATime, 48));
        Assert.Equal(432, expected[0]);
    }

    [Fact]
    public void Llama_cpp_loads_the_same_parts_and_agrees()
    {
        // The parts are also what llama.cpp's own split loader accepts, so the writer matches gguf-split's format.
        var parts = Split(3);
        using var oracle = new LlamaCppOracle(parts[0]);
        using var split = LlamaModel.Load(parts[0], new ModelLoadOptions { Backend = ComputeBackendKind.Reference, KvBlockCount = 8 });
        Assert.Equal(oracle.Greedy(OnceUponATime, 32), ModelRunner.Greedy(split, OnceUponATime, 32));
    }

    [Fact]
    public void The_served_model_loads_from_the_first_part()
    {
        var parts = Split(3);
        using var served = ServedModel.Load(parts[0]);
        using var reference = ServedModel.Load(_single);
        Assert.Equal(reference.EncodePrompt("Once upon a time"), served.EncodePrompt("Once upon a time"));
        Assert.Equal(OnceUponATime, served.EncodePrompt("Once upon a time"));
        // Served under the whole model's name, not the first part's.
        Assert.Equal(Fathom.Gguf.GgufSplit.ModelName(parts[0]), served.Name);
        Assert.DoesNotContain("-of-", served.Name, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_part_fails_the_load_naming_it()
    {
        var parts = Split(3);
        File.Delete(parts[1]);
        var e = Assert.Throws<GgufFormatException>(() => LlamaModel.Load(parts[0], new ModelLoadOptions { Backend = ComputeBackendKind.Reference, KvBlockCount = 1 }));
        Assert.Equal(parts[1], e.FilePath);
        Assert.Contains(GgufSplit.CountKey, e.Message, StringComparison.Ordinal);
    }

    private string[] Split(int count)
    {
        using var source = GgufFile.Open(_single);
        return GgufSplitWriter.Write(source, Path.Combine(_dir, "stories260K"), count);
    }
}
