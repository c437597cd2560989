using Fathom.Gguf;
using Fathom.Testing;

namespace Fathom.Gguf.Tests;

public sealed class GgufSharedFileTests
{
    [Fact]
    public void Stories260K_has_the_documented_llama_shape()
    {
        using var file = GgufFile.Open(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K));
        var m = file.Metadata;

        Assert.Equal(3u, file.Version);
        Assert.Equal("llama", m.Architecture);
        Assert.Equal(5u, m.GetUInt32("llama.block_count"));
        Assert.Equal(64u, m.GetUInt32("llama.embedding_length"));
        Assert.Equal(8u, m.GetUInt32("llama.attention.head_count"));
        Assert.Equal(4u, m.GetUInt32("llama.attention.head_count_kv"));
        Assert.Equal(172u, m.GetUInt32("llama.feed_forward_length"));
        Assert.Equal("llama", m.GetString("tokenizer.ggml.model"));
        Assert.Equal(512, m.GetStringArray("tokenizer.ggml.tokens")!.Length);
        Assert.Equal(512, m.GetFloat32Array("tokenizer.ggml.scores")!.Length);
        Assert.Equal(512, m.GetInt32Array("tokenizer.ggml.token_type")!.Length);

        Assert.All(file.Tensors, t => Assert.Equal(GgmlType.F32, t.Type));
        var embedding = file.GetTensor("token_embd.weight");
        Assert.Equal(new long[] { 64, 512 }, embedding.Dimensions);
        Assert.Equal(512, embedding.Rows);
        Assert.Equal(64L * 512 * 4, file.GetTensorBytes(embedding).Length);
        Assert.Equal(new long[] { 172, 64 }, file.GetTensor("blk.0.ffn_down.weight").Dimensions);
        Assert.Equal(0, file.DataOffset % file.Alignment);
        Assert.Equal(file.FileLength, file.DataOffset + file.Tensors.Max(t => (long)t.Offset + t.ByteSize), 0, 0);
    }

    [Fact]
    public void Stories260K_embedding_holds_finite_trained_weights()
    {
        using var file = GgufFile.Open(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K));
        var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.GetTensorBytes(file.GetTensor("token_embd.weight")));
        Assert.All(floats.ToArray(), f => Assert.True(float.IsFinite(f)));
        Assert.True(floats.ToArray().Select(MathF.Abs).Max() > 0.01f);
    }

    [Fact]
    public void Llama2_tiny_random_has_F16_tensors_and_the_full_vocab()
    {
        using var file = GgufFile.Open(SharedFixtures.Default.GetPath(SharedFixtures.LlamaTinyRandom));
        Assert.Equal("llama", file.Metadata.Architecture);
        Assert.Contains(file.Tensors, t => t.Type == GgmlType.F16);
        Assert.Contains(file.Tensors, t => t.Type == GgmlType.F32);
        Assert.Equal(32000, file.Metadata.GetStringArray("tokenizer.ggml.tokens")!.Length);
        foreach (var t in file.Tensors)
        {
            Assert.Equal(t.ElementCount * (t.Type == GgmlType.F16 ? 2 : 4), file.GetTensorBytes(t).Length);
        }
    }

    [Fact]
    public void The_v2_Q8_0_file_with_172_element_rows_is_rejected_naming_the_tensor()
    {
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260KQ8);
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
        Assert.Contains("ffn_down.weight", e.Message);
        Assert.Contains("Q8_0", e.Reason);
        Assert.Contains("172", e.Reason);
        Assert.Equal(path, e.FilePath);
        Assert.True(e.Offset > 24);
    }

    [Fact]
    public void The_v2_Q8_0_file_still_yields_its_metadata()
    {
        var metadata = GgufFile.ReadMetadata(SharedFixtures.Default.GetPath(SharedFixtures.Stories260KQ8));
        Assert.Equal("llama", metadata.Architecture);
        Assert.Equal("Meta AI original pth", metadata.GetString("llama.tensor_data_layout"));
        Assert.Equal(512, metadata.GetStringArray("tokenizer.ggml.tokens")!.Length);
        Assert.Equal(5u, metadata.GetUInt32("llama.block_count"));
    }

    [Theory]
    [InlineData("vocab/ggml-vocab-llama-spm.gguf", "llama")]
    [InlineData("vocab/ggml-vocab-deepseek-llm.gguf", "gpt2")]
    [InlineData("vocab/ggml-vocab-deepseek-coder.gguf", "gpt2")]
    [InlineData("vocab/ggml-vocab-gpt-2.gguf", "gpt2")]
    public void Vocab_only_files_open_with_their_tokenizer_metadata(string relativePath, string tokenizerModel)
    {
        using var file = GgufFile.Open(SharedFixtures.Default.GetPath(relativePath));
        Assert.Empty(file.Tensors);
        Assert.Equal(tokenizerModel, file.Metadata.GetRequiredString("tokenizer.ggml.model"));
        var tokens = file.Metadata.GetStringArray("tokenizer.ggml.tokens")!;
        Assert.True(tokens.Length > 1000);
        Assert.Equal(tokens.Length, tokens.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Metadata_getters_name_the_key_when_missing_or_mistyped()
    {
        using var file = GgufFile.Open(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K));
        var missing = Assert.Throws<GgufFormatException>(() => file.Metadata.GetUInt32("llama.no_such_key"));
        Assert.Contains("llama.no_such_key", missing.Message);
        Assert.Equal(7u, file.Metadata.GetUInt32("llama.no_such_key", 7));
        var mistyped = Assert.Throws<GgufFormatException>(() => file.Metadata.GetUInt32("general.architecture"));
        Assert.Contains("general.architecture", mistyped.Message);
        Assert.True(mistyped.Offset > 0);
        Assert.Null(file.Metadata.GetString("no.such.string"));
        var tensor = Assert.Throws<GgufFormatException>(() => file.GetTensor("no.such.tensor"));
        Assert.Contains("no.such.tensor", tensor.Message);
    }
}
