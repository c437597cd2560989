using Fathom.Engine.KvCache;
using Fathom.Engine.Model;

namespace Fathom.Engine.Backends;

/// <summary>
/// The operations of a Llama forward step. Activations are row-major f32 buffers owned by the caller and may be
/// longer than the rows used; weights stay in their file layout. Implementations must give each output element
/// the same value whatever else is in the batch (batch invariance).
/// </summary>
internal interface IComputeBackend : IDisposable
{
    /// <summary>Short name (<c>reference</c>, <c>cpu</c>).</summary>
    string Name { get; }

    /// <summary>Rows of <paramref name="table"/> for each token, as f32. // output (n_tokens, table.Columns)</summary>
    void Embed(WeightMatrix table, ReadOnlySpan<int> tokens, float[] output);

    /// <summary><c>output = x / rms(x) * weight</c> per row. // input, output (rows, dim); weight (dim)</summary>
    void RmsNorm(float[] input, int rows, int dim, float[] weight, float eps, float[] output);

    /// <summary>
    /// For each target, <c>Output = input · Weightᵀ</c>; all weights share the input width. Several targets in
    /// one call let a backend quantize or load the input once. // input (rows, k); outputs (rows, n_i)
    /// </summary>
    void MatMul(float[] input, int rows, params ReadOnlySpan<MatMulTarget> targets);

    /// <summary>Adds <paramref name="bias"/> to every row. // x (rows, bias.Length)</summary>
    void AddBias(float[] x, int rows, float[] bias);

    /// <summary>Rotates every head of every row by its row's position. // x (rows, heads, head_dim)</summary>
    void Rope(float[] x, int rows, int heads, int headDimension, ReadOnlySpan<int> positions, RopeParameters rope);

    /// <summary>Writes each token's key and value rows into its sequence's blocks. // k, v (n_tokens, n_head_kv * head_dim)</summary>
    void StoreKv(float[] keys, float[] values, ForwardBatch batch, PagedKvStorage storage, int layer);

    /// <summary>
    /// Causal grouped-query attention of each token over its sequence's cached positions 0..pos, scale
    /// 1/sqrt(head_dim), softmax in f32. // q, output (n_tokens, n_head, head_dim)
    /// </summary>
    void Attention(float[] queries, ForwardBatch batch, PagedKvStorage storage, int layer, int heads, float[] output);

    /// <summary><c>output = silu(gate) * up</c>. // (count)</summary>
    void SwiGlu(float[] gate, float[] up, int count, float[] output);

    /// <summary><c>x += y</c>. // (count)</summary>
    void Add(float[] x, float[] y, int count);

    /// <summary>Index of the largest value (the first on ties).</summary>
    int ArgMax(ReadOnlySpan<float> values);
}
