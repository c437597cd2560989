namespace Fathom.Planner.Formats;

/// <summary>
/// A weight format: which storage each tensor gets (a quantization recipe), the kernel family decode runs
/// on, and the precision prefill computes in.
/// </summary>
public sealed class WeightFormat
{
    private readonly Func<TensorRole, int, int, TensorStorage> _recipe;

    private WeightFormat(string id, string description, KernelClass kernel, ComputePrecision compute, Func<TensorRole, int, int, TensorStorage> recipe)
    {
        Id = id;
        Description = description;
        Kernel = kernel;
        Compute = compute;
        _recipe = recipe;
    }

    /// <summary>The canonical id (bf16, fp8, q4_k_m, gptq-4bit-g128, ...).</summary>
    public string Id { get; }

    /// <summary>One line on what is stored how.</summary>
    public string Description { get; }

    /// <summary>The decode kernel family.</summary>
    public KernelClass Kernel { get; }

    /// <summary>The precision prefill runs at.</summary>
    public ComputePrecision Compute { get; }

    /// <summary>The format ids <see cref="Parse"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["f32", "bf16", "fp16", "fp8", "int8", "q8_0", "q4_k_m", "q4_0", "gptq-4bit[-gN]", "awq-4bit[-gN]"];

    /// <summary>Storage of tensor <paramref name="role"/> in block <paramref name="layer"/> of a model with <paramref name="layers"/> blocks.</summary>
    public TensorStorage StorageFor(TensorRole role, int layer, int layers) => _recipe(role, layer, layers);

    /// <summary>
    /// Parses a format id; GPTQ/AWQ take a group size from the id (<c>gptq-4bit-g32</c>) or from
    /// <paramref name="groupSize"/> (default 128; 0 = per-channel).
    /// </summary>
    /// <exception cref="PlannerInputException">The format is unknown.</exception>
    public static WeightFormat Parse(string id, int groupSize = 128)
    {
        var key = (id ?? "").Trim().ToLowerInvariant();
        var suffix = key.LastIndexOf("-g", StringComparison.Ordinal);
        if ((key.StartsWith("gptq", StringComparison.Ordinal) || key.StartsWith("awq", StringComparison.Ordinal)) && suffix > 0
            && int.TryParse(key.AsSpan(suffix + 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var g))
        {
            groupSize = g;
            key = key[..suffix];
        }

        return key switch
        {
            "f32" or "fp32" => new WeightFormat("f32", "f32 everywhere (GGUF F32, as small test models ship)",
                KernelClass.Dense, ComputePrecision.Bf16, (_, _, _) => TensorStorage.F32),
            "bf16" or "fp16" or "f16" => Sixteen(key == "bf16" ? "bf16" : "fp16"),
            "fp8" or "fp8_e4m3" => new WeightFormat("fp8", "fp8 e4m3 matrices (per-tensor scales); embedding, lm_head and norms stay 16-bit",
                KernelClass.Dense, ComputePrecision.Fp8, (role, _, _) => IsMatrixInBlock(role) ? TensorStorage.Fp8 : TensorStorage.F16),
            "int8" or "w8a16" => new WeightFormat("int8", "int8 matrices with one f16 scale per output row (weight-only); embedding, lm_head and norms stay 16-bit",
                KernelClass.EightBit, ComputePrecision.Bf16, (role, _, _) => IsMatrixInBlock(role) ? TensorStorage.Grouped(8, 0, zeroPoint: false) : TensorStorage.F16),
            "q8_0" => new WeightFormat("q8_0", "GGUF Q8_0 for every matrix incl. embedding and output (8.5 bits/weight); norms F32",
                KernelClass.EightBit, ComputePrecision.Bf16, (role, _, _) => role == TensorRole.Vector ? TensorStorage.F32 : TensorStorage.Q80),
            "q4_0" => new WeightFormat("q4_0", "GGUF Q4_0 matrices (4.5 bits/weight), output Q6_K as llama.cpp quantizes it; norms F32",
                KernelClass.FourBit, ComputePrecision.Bf16, (role, _, _) => role switch
                {
                    TensorRole.Vector => TensorStorage.F32,
                    TensorRole.Output => TensorStorage.Q6K,
                    _ => TensorStorage.Q40,
                }),
            "q4_k_m" or "q4_k" => new WeightFormat("q4_k_m", "GGUF Q4_K_M: Q4_K (4.5 bits) with Q6_K for output and for attn_v/ffn_down in 'more bits' layers, llama.cpp's recipe; norms F32",
                KernelClass.FourBit, ComputePrecision.Bf16, Q4KMedium),
            "gptq-4bit" or "gptq" or "awq-4bit" or "awq" or "int4" => Grouped4(key.StartsWith("awq", StringComparison.Ordinal) ? "awq-4bit" : "gptq-4bit", groupSize),
            _ => throw new PlannerInputException($"unknown weight format '{id}' (known: {string.Join(", ", Names)})"),
        };
    }

    private static WeightFormat Sixteen(string id) =>
        new(id, $"{id} everywhere", KernelClass.Dense, ComputePrecision.Bf16, (_, _, _) => TensorStorage.F16);

    private static WeightFormat Grouped4(string id, int groupSize)
    {
        if (groupSize < 0 || (groupSize > 0 && groupSize % 8 != 0))
        {
            throw new PlannerInputException($"group size {groupSize} is not a positive multiple of 8 (or 0 for per-channel)");
        }

        var storage = TensorStorage.Grouped(4, groupSize, zeroPoint: true);
        var name = groupSize > 0 ? $"{id}-g{groupSize}" : $"{id}-per-channel";
        return new WeightFormat(name, $"4-bit matrices, f16 scale + 4-bit zero per group of {(groupSize > 0 ? groupSize : "a row")} ({storage.BitsPerWeight(8192):0.###} bits/weight at rows of 8192); embedding, lm_head and norms 16-bit",
            KernelClass.FourBit, ComputePrecision.Bf16, (role, _, _) => IsMatrixInBlock(role) ? storage : TensorStorage.F16);
    }

    private static bool IsMatrixInBlock(TensorRole role) => role is not (TensorRole.Embedding or TensorRole.Output or TensorRole.Vector);

    // llama.cpp's Q4_K_M choice per tensor (llama_tensor_get_type): more bits for the first and last eighth
    // of the blocks and every third block between; 80-block (70B) Llama models get Q5_K attn_v elsewhere,
    // because eight query heads share each V head and the tensor is small.
    private static TensorStorage Q4KMedium(TensorRole role, int layer, int layers) => role switch
    {
        TensorRole.Vector => TensorStorage.F32,
        TensorRole.Output => TensorStorage.Q6K,
        TensorRole.AttentionValue => UseMoreBits(layer, layers) ? TensorStorage.Q6K : layers == 80 ? TensorStorage.Q5K : TensorStorage.Q4K,
        TensorRole.FfnDown => UseMoreBits(layer, layers) ? TensorStorage.Q6K : TensorStorage.Q4K,
        _ => TensorStorage.Q4K,
    };

    private static bool UseMoreBits(int layer, int layers) =>
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;

    /// <inheritdoc />
    public override string ToString() => Id;
}
