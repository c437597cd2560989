using Fathom.Gguf;
using Fathom.Engine.Model;
using Fathom.Testing;

namespace Fathom.Engine.Tests.Model;

public sealed class LlamaHyperParametersTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fathom-hp-").FullName;

    [Fact]
    public void Stories260K_reads_as_documented()
    {
        using var file = GgufFile.Open(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K));
        var hp = LlamaHyperParameters.FromGguf(file);
        Assert.Equal(("llama", 64, 5, 8, 4, 8, 172, 512), (hp.Architecture, hp.EmbeddingLength, hp.LayerCount, hp.HeadCount, hp.KvHeadCount, hp.HeadDimension, hp.FeedForwardLength, hp.VocabularySize));
        Assert.Equal(RopeMode.Normal, hp.RopeMode);
        Assert.False(hp.HasQkvBias);
    }

    [Theory]
    [InlineData("llama.attention.head_count_kv", 3u, "head_count (8) is not a multiple of head_count_kv (3)")]
    [InlineData("llama.rope.dimension_count", 33u, "rope.dimension_count (33)")]
    [InlineData("llama.feed_forward_length", 500u, "ffn_gate.weight' has shape [256, 512], expected [256, 500]")]
    [InlineData("llama.embedding_length", 0u, "must be positive")]
    public void Inconsistent_files_fail_with_a_clear_message(string key, uint value, string expected)
    {
        var path = WriteVariant(key, value);
        var e = Assert.Throws<ModelLoadException>(() => LlamaModel.Load(path, new ModelLoadOptions { KvBlockCount = 1 }).Dispose());
        Assert.Contains(expected, e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Unsupported_architecture_is_named()
    {
        var path = Path.Combine(_directory, "arch.gguf");
        new GgufWriter().AddMetadata("general.architecture", "mamba").WriteTo(path);
        var e = Assert.Throws<ModelLoadException>(() => LlamaModel.Load(path).Dispose());
        Assert.Contains("'mamba' is not supported", e.Message);
    }

    [Fact]
    public void Llama3_scaling_divisors_keep_high_and_scale_low_frequencies()
    {
        var divisors = new Llama3RopeScaling(8, 1, 4, 8192).FrequencyDivisors(500000, 128);
        Assert.Equal(1f, divisors[0]);
        Assert.Equal(8f, divisors[^1]);
        Assert.All(divisors, d => Assert.InRange(d, 1f, 8f));
        Assert.True(divisors.Zip(divisors.Skip(1)).All(p => p.First <= p.Second));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string WriteVariant(string key, uint value)
    {
        // The small synthetic model, then the same file with one metadata value replaced.
        var source = Path.Combine(_directory, "base.gguf");
        if (!File.Exists(source))
        {
            SyntheticLlama.Write(source, SyntheticLlamaShape.Small, GgmlType.F32);
        }

        using var file = GgufFile.Open(source);
        var writer = new GgufWriter();
        foreach (var (k, v) in file.Metadata)
        {
            writer.AddMetadata(k, k == key ? GgufValue.FromUInt32(value) : v);
        }

        foreach (var t in file.Tensors)
        {
            writer.AddTensor(t.Name, t.Type, t.Dimensions, file.GetTensorBytes(t));
        }

        var path = Path.Combine(_directory, $"{key}-{value}.gguf");
        writer.WriteTo(path);
        return path;
    }
}
