using Fathom.Engine.Backends.Cpu;
using Fathom.Engine.Model;
using Fathom.Gguf;

namespace Fathom.Engine.Tests.Model;

/// <summary>
/// Where the CPU backend keeps the token embedding: a step reads one row of it per token, so an untied table is read
/// in place from the file's mapping instead of being copied into the weight arena with the matrices that every step
/// streams (on an 8B Q4_K_M file that copy was 282 MiB of resident memory); a tied table is the output projection and
/// is copied like the other matrices.
/// </summary>
public sealed class TokenEmbeddingResidencyTests : IDisposable
{
    private static readonly int[] Prompt = [1, 300, 301, 302, 17];
    private readonly string _directory = Directory.CreateTempSubdirectory("fathom-embedding-residency-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public unsafe void Untied_token_embedding_is_read_from_the_mapping_while_the_output_matrix_is_copied()
    {
        var path = Path.Combine(_directory, "untied.gguf");
        SyntheticLlama.Write(path, SyntheticLlamaShape.Small, GgmlType.Q8_0);
        using var model = LlamaModel.Load(path, new ModelLoadOptions { Threads = 1, KvBlockCount = 4 });
        var file = model.File!;
        byte* Mapped(string name) => file.GetTensorPointer(file.Tensors.Single(t => t.Name == name));

        Assert.True(model.Weights.TokenEmbedding.Data == Mapped("token_embd.weight"), "the token embedding was copied out of the mapping");
        Assert.NotSame(model.Weights.TokenEmbedding, model.Weights.Output);
        if (OperatingSystem.IsLinux())
        {
            // Where the arena exists (Linux), the matrices a step streams in full are still copied into it.
            Assert.False(model.Weights.Output.Data == Mapped("output.weight"), "the output matrix was left in the mapping");
            Assert.False(model.Weights.Layers[0].Query.Data == Mapped("blk.0.attn_q.weight"), "a layer matrix was left in the mapping");
        }

        // Load drops the mapping's pages; the rows a step reads fault back in from the page cache (SyntheticParityTests
        // hold these untied models' logits to llama.cpp's).
        Assert.Equal(6, ModelRunner.Greedy(model, Prompt, 6).Length);
    }

    [Fact]
    public unsafe void Tied_token_embedding_is_the_output_matrix_and_is_copied_with_the_matrices()
    {
        var path = Path.Combine(_directory, "tied.gguf");
        SyntheticLlama.Write(path, SyntheticLlamaShape.Small, GgmlType.Q8_0, tiedOutput: true);
        using var model = LlamaModel.Load(path, new ModelLoadOptions { Threads = 1, KvBlockCount = 4 });
        var file = model.File!;

        Assert.Same(model.Weights.TokenEmbedding, model.Weights.Output);
        Assert.Equal(
            OperatingSystem.IsLinux(),
            model.Weights.TokenEmbedding.Data != file.GetTensorPointer(file.Tensors.Single(t => t.Name == "token_embd.weight")));
        Assert.Equal(6, ModelRunner.Greedy(model, Prompt, 6).Length);
    }

    [Fact]
    public void Token_embedding_quantized_on_load_lives_in_the_arena()
    {
        // F32 rows quantized to Q8_0 at load exist only as the quantizer's output, so the table cannot stay mapped.
        var path = Path.Combine(_directory, "f32.gguf");
        SyntheticLlama.Write(path, SyntheticLlamaShape.Small, GgmlType.F32);
        using var source = ModelTensorSource.Open(path);

        Assert.True(LlamaWeights.EmbeddingStaysMapped(source, WeightQuantization.None));
        Assert.False(LlamaWeights.EmbeddingStaysMapped(source, WeightQuantization.Q8_0));
        var matrices = source.Tensors.Where(t => t.Dimensions.Length == 2).ToArray();
        Assert.Equal(
            matrices.Where(t => t.Name != "token_embd.weight").Sum(t => HugePageWeights.Capacity(t.Type, t.Dimensions[0], t.Dimensions[1])),
            LlamaWeights.ArenaCapacity(source, WeightQuantization.None));
        Assert.Equal(
            matrices.Sum(t => HugePageWeights.Capacity(GgmlType.Q8_0, t.Dimensions[0], t.Dimensions[1])),
            LlamaWeights.ArenaCapacity(source, WeightQuantization.Q8_0));
    }
}
