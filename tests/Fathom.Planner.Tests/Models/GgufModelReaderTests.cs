using Fathom.Gguf;
using Fathom.Planner.Formats;
using Fathom.Planner.Models;
using Fathom.Testing;

namespace Fathom.Planner.Tests.Models;

public sealed class GgufModelReaderTests
{
    // Bytes per element of the plain types, known independently of the engine's block table.
    private static readonly Dictionary<GgmlType, int> PlainBytes = new() { [GgmlType.F32] = 4, [GgmlType.F16] = 2, [GgmlType.BF16] = 2 };

    [Theory]
    [InlineData(SharedFixtures.Stories260K)]
    [InlineData(SharedFixtures.LlamaTinyRandom)]
    public void GGUF_weights_equal_the_files_tensor_bytes(string fixture)
    {
        var path = SharedFixtures.Default.GetPath(fixture);
        var (shape, weights) = GgufModelReader.Read(path);

        using var file = GgufFile.Open(path);
        Assert.Equal(file.Tensors.Sum(t => t.ElementCount * PlainBytes[t.Type]), weights.TotalBytes);
        Assert.Equal(weights.TotalBytes, weights.BytesByStorage.Values.Sum());
        // The data section holds exactly these bytes plus alignment padding.
        Assert.InRange(file.FileLength - file.DataOffset - weights.TotalBytes, 0, file.Tensors.Count * (long)file.Alignment);
        Assert.Equal(file.Tensors.Sum(t => t.ElementCount), shape.Parameters);
    }

    [Fact]
    public void Every_model_file_in_shared_is_read_or_refused_with_a_clear_reason()
    {
        var root = SharedFixtures.Default.Root;
        var dir = root is null ? null : Path.Combine(root, "models");
        if (dir is null || !Directory.Exists(dir))
        {
            SharedFixtures.Default.GetPath(SharedFixtures.Stories260K); // skips, or fails in CI
            return;
        }

        var files = Directory.GetFiles(dir, "*.gguf");
        Assert.NotEmpty(files);
        foreach (var path in files)
        {
            SharedFixtures.Default.GetPath("models/" + Path.GetFileName(path)); // checks the hash
            if (Path.GetFileName(path) == Path.GetFileName(SharedFixtures.Stories260KQ8))
            {
                // Q8_0 rows of 172 values are not whole 32-value blocks: the reader refuses, and the planner says why.
                var e = Assert.Throws<PlannerInputException>(() => GgufModelReader.Read(path));
                Assert.Contains("ffn_down", e.Message);
                Assert.Contains("block", e.Message);
                continue;
            }

            var (_, weights) = GgufModelReader.Read(path);
            using var file = GgufFile.Open(path);
            Assert.Equal(file.Tensors.Sum(t => t.ByteSize), weights.TotalBytes);
        }
    }

    [Fact]
    public void Stories260K_reads_as_its_documented_shape_with_GQA_KV()
    {
        var (shape, weights) = GgufModelReader.Read(SharedFixtures.Default.GetPath(SharedFixtures.Stories260K));
        Assert.Equal((5, 64, 8, 4, 8, 172, 512, false), (shape.Layers, shape.HiddenSize, shape.Heads, shape.KvHeads, shape.HeadDim, shape.FfnSize, shape.VocabSize, shape.TiedEmbeddings));
        Assert.Equal(2L * 5 * 4 * 8 * 2, shape.KvBytesPerToken(KvCacheType.F16));
        Assert.Equal(KernelClass.Dense, weights.Kernel);
        Assert.Equal("gguf-f32", weights.FormatId);
    }

    [Fact]
    public void A_synthetic_Q4_K_M_mix_reads_exactly_and_matches_the_recipe_estimate()
    {
        // One block of a Llama shape, typed as llama.cpp's Q4_K_M recipe types a 1-layer model: Q6_K for
        // attn_v, ffn_down (the "more bits" layers) and output; Q4_K elsewhere; F32 norms.
        const int hidden = 256, ffn = 512, vocab = 32, kvWidth = 128;
        var tensors = new (string Name, GgmlType Type, long[] Dims)[]
        {
            ("token_embd.weight", GgmlType.Q4_K, [hidden, vocab]),
            ("blk.0.attn_norm.weight", GgmlType.F32, [hidden]),
            ("blk.0.attn_q.weight", GgmlType.Q4_K, [hidden, hidden]),
            ("blk.0.attn_k.weight", GgmlType.Q4_K, [hidden, kvWidth]),
            ("blk.0.attn_v.weight", GgmlType.Q6_K, [hidden, kvWidth]),
            ("blk.0.attn_output.weight", GgmlType.Q4_K, [hidden, hidden]),
            ("blk.0.ffn_norm.weight", GgmlType.F32, [hidden]),
            ("blk.0.ffn_gate.weight", GgmlType.Q4_K, [hidden, ffn]),
            ("blk.0.ffn_up.weight", GgmlType.Q4_K, [hidden, ffn]),
            ("blk.0.ffn_down.weight", GgmlType.Q6_K, [ffn, hidden]),
            ("output_norm.weight", GgmlType.F32, [hidden]),
            ("output.weight", GgmlType.Q6_K, [hidden, vocab]),
        };
        long Bytes(GgmlType type, long[] dims) => type switch
        {
            GgmlType.F32 => dims[0] * 4,
            GgmlType.Q4_K => dims[1] * (dims[0] / 256) * 144,
            _ => dims[1] * (dims[0] / 256) * 210,
        };

        var writer = new GgufWriter()
            .AddMetadata("general.architecture", "llama")
            .AddMetadata("llama.block_count", 1u)
            .AddMetadata("llama.embedding_length", (uint)hidden)
            .AddMetadata("llama.attention.head_count", 2u)
            .AddMetadata("llama.attention.head_count_kv", 1u)
            .AddMetadata("llama.feed_forward_length", (uint)ffn)
            .AddMetadata("llama.context_length", 2048u);
        foreach (var (name, type, dims) in tensors)
        {
            writer.AddTensor(name, type, dims, new byte[Bytes(type, dims)]);
        }

        var path = Path.Combine(Path.GetTempPath(), $"fathom-planner-{Guid.NewGuid():N}.gguf");
        try
        {
            writer.WriteTo(path);
            var (shape, weights) = GgufModelReader.Read(path);
            Assert.Equal(tensors.Sum(t => Bytes(t.Type, t.Dims)), weights.TotalBytes);
            Assert.Equal(tensors.Where(t => t.Type == GgmlType.Q6_K).Sum(t => Bytes(t.Type, t.Dims)), weights.BytesByStorage["Q6_K"]);
            Assert.Equal(weights.TotalBytes - Bytes(GgmlType.Q4_K, [hidden, vocab]), weights.DecodeReadBytes);
            Assert.Equal(KernelClass.FourBit, weights.Kernel);

            var estimate = WeightBudget.Estimate(shape, WeightFormat.Parse("q4_k_m"));
            Assert.Equal(weights.TotalBytes, estimate.TotalBytes);
            Assert.Equal(weights.BytesByStorage, estimate.BytesByStorage);

            // The planner takes the file's bytes when no format is given.
            var plan = new HardwarePlanner().Plan(new PlanRequest { Model = path, Gpu = "rtx-4090", Context = 2048, PromptTokens = 100, OutputTokens = 100 });
            Assert.Equal(weights.TotalBytes, plan.WeightsBytes);
            Assert.Equal("gguf-q4_k", plan.WeightsFormat);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_missing_file_is_one_clear_line()
    {
        var e = Assert.Throws<PlannerInputException>(() => ModelSource.Resolve("/nonexistent/model.gguf"));
        Assert.Contains("/nonexistent/model.gguf", e.Message);
    }
}
