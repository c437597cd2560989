using Fathom.Engine.KvCache;
using Fathom.Gguf;
using Fathom.Engine.Model;

namespace Fathom.Engine.Tests.Model;

/// <summary>
/// Synthetic models of every weight type, written by our GGUF writer and loaded by llama.cpp and by us.
/// Tolerances (relative to max |logit|): llama.cpp multiplies F32 weights by f32 activations, but rounds the
/// activations to the weight's format for F16 (11-bit mantissa, u = 2^-11) and BF16 (8-bit, u = 2^-8) before
/// each matmul, while we keep them in f32 — so its logits carry that rounding, ~u·sqrt(layers·matmuls) relative.
/// Quantized weights: the CPU backend quantizes activations to Q8_0/Q8_K exactly as llama.cpp's x86 code does (same
/// bytes), so with the same weight bytes only f32 reassociation is left (measured: Q8_0 1.0e-7, Q6_K 1.6e-7, and Q4_0
/// exactly 0 against llama.cpp's repacked Q4_0 kernel, whose order ours happens to share; bound 1e-5). Q4_K is the
/// exception on a batched prompt only: llama.cpp's own batched Q4_K path lands 1.37e-2 away from its token-by-token
/// path (its Q4_K GEMM is not batch invariant), while we match the token-by-token path to 1.5e-7 — checked below with
/// the tight bound — so the batched comparison gets the size of activation quantization itself (3e-2). The reference backend keeps activations in
/// f32: each Q8 step moves an activation by ≤ max/254 of its block, ~0.2% per dot after averaging, compounded over
/// 2 layers × 7 matmuls and the 4×-scaled output matrix: measured 1.4–2.5e-2, bound 5e-2.
/// </summary>
public sealed class SyntheticParityTests : IDisposable
{
    private static readonly int[] Prompt = [1, 300, 301, 302, 17, 250, 383, 42];
    private readonly string _directory = Directory.CreateTempSubdirectory("fathom-synthetic-").FullName;

    public static TheoryData<GgmlType, double, double> Types => new()
    {
        { GgmlType.F32, 1e-4, 1e-5 },
        { GgmlType.F16, 4e-3, 1e-5 },
        { GgmlType.BF16, 3e-2, 1e-5 },
        { GgmlType.Q8_0, 1e-5, 5e-2 },
        { GgmlType.Q4_0, 1e-5, 5e-2 },
        { GgmlType.Q4_K, 3e-2, 5e-2 },
        { GgmlType.Q6_K, 1e-5, 5e-2 },
    };

    [Theory]
    [MemberData(nameof(Types))]
    public void Logits_and_greedy_tokens_match_llama_cpp(GgmlType type, double tolerance, double backendTolerance)
    {
        var path = Path.Combine(_directory, $"synthetic-{type}.gguf");
        SyntheticLlama.Write(path, SyntheticLlamaShape.Small, type);
        using var oracle = new LlamaCppOracle(path);
        using var cpu = LlamaModel.Load(path, new ModelLoadOptions { Threads = 2, KvBlockCount = 4, KvCacheDataType = KvCacheDataType.F32 });
        using var reference = LlamaModel.Load(path, new ModelLoadOptions { Backend = ComputeBackendKind.Reference, KvBlockCount = 4 });

        var expected = oracle.LastLogits(Prompt);
        var ours = ModelRunner.LastLogits(cpu, Prompt);
        var oracleError = ModelRunner.RelativeError(ours, expected);
        Assert.True(oracleError < tolerance, $"{type}: CPU vs llama.cpp relative error {oracleError:E3} ≥ {tolerance:E1}");
        var backendError = ModelRunner.RelativeError(ours, ModelRunner.LastLogits(reference, Prompt));
        Assert.True(backendError < backendTolerance, $"{type}: CPU vs reference relative error {backendError:E3}");

        // Greedy: equal until llama.cpp itself had a near-tie (top-2 gap within the tolerance), if ever.
        var theirs = oracle.Greedy(Prompt, 12);
        var mine = ModelRunner.Greedy(cpu, Prompt, 12);
        var first = Enumerable.Range(0, theirs.Length).FirstOrDefault(i => theirs[i] != mine[i], -1);
        if (first >= 0)
        {
            var logits = oracle.LastLogits([.. Prompt, .. theirs[..first]]);
            var sorted = logits.OrderDescending().ToArray();
            Assert.True(sorted[0] - sorted[1] < 2 * tolerance * logits.Max(Math.Abs), $"{type}: token {first} differs ({mine[first]} vs {theirs[first]}) without a near-tie");
            Assert.Equal(theirs[..first], mine[..first]);
            return;
        }

        Assert.Equal(theirs, mine);
    }

    /// <summary>
    /// Quantized types against llama.cpp fed one token per call (its mat-vec kernels everywhere): only f32
    /// reassociation separates us. This is what pins Q4_K, whose batched llama.cpp path is an outlier (see above).
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    public void Logits_match_llama_cpp_token_by_token_within_reassociation(GgmlType type)
    {
        var path = Path.Combine(_directory, $"synthetic-{type}.gguf");
        SyntheticLlama.Write(path, SyntheticLlamaShape.Small, type);
        using var oracle = new LlamaCppOracle(path);
        using var cpu = LlamaModel.Load(path, new ModelLoadOptions { Threads = 2, KvBlockCount = 4, KvCacheDataType = KvCacheDataType.F32 });
        var error = ModelRunner.RelativeError(ModelRunner.LastLogits(cpu, Prompt), oracle.LastLogitsTokenByToken(Prompt));
        Assert.True(error < 1e-5, $"{type}: CPU vs llama.cpp token by token, relative error {error:E3}");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
