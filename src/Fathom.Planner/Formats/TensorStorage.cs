namespace Fathom.Planner.Formats;

/// <summary>
/// How one tensor's values are stored. Either GGUF-style fixed blocks (<see cref="BlockElements"/> values in
/// <see cref="BlockBytes"/> bytes, scales included) or GPTQ/AWQ-style groups along each row
/// (<see cref="Bits"/> per value plus <see cref="GroupOverheadBits"/> per group of <see cref="GroupSize"/>).
/// </summary>
public sealed record TensorStorage(string Name, int BlockElements, int BlockBytes, int Bits = 0, int GroupSize = 0, int GroupOverheadBits = 0)
{
    /// <summary>32-bit floats (GGUF keeps norms in F32).</summary>
    public static TensorStorage F32 { get; } = new("F32", 1, 4);

    /// <summary>16-bit floats (f16 or bf16).</summary>
    public static TensorStorage F16 { get; } = new("F16", 1, 2);

    /// <summary>8-bit floats; the single per-tensor scale is ignored (4 bytes a tensor).</summary>
    public static TensorStorage Fp8 { get; } = new("FP8", 1, 1);

    /// <summary>GGUF Q4_0: 32 values as 4-bit + one f16 scale = 18 bytes (4.5 bits/weight).</summary>
    public static TensorStorage Q40 { get; } = new("Q4_0", 32, 18);

    /// <summary>GGUF Q8_0: 32 int8 values + one f16 scale = 34 bytes (8.5 bits/weight).</summary>
    public static TensorStorage Q80 { get; } = new("Q8_0", 32, 34);

    /// <summary>GGUF Q4_K: 256 values in 144 bytes (4.5 bits/weight: 6-bit sub-block scales and mins, f16 super-scales).</summary>
    public static TensorStorage Q4K { get; } = new("Q4_K", 256, 144);

    /// <summary>GGUF Q5_K: 256 values in 176 bytes (5.5 bits/weight).</summary>
    public static TensorStorage Q5K { get; } = new("Q5_K", 256, 176);

    /// <summary>GGUF Q6_K: 256 values in 210 bytes (6.5625 bits/weight).</summary>
    public static TensorStorage Q6K { get; } = new("Q6_K", 256, 210);

    /// <summary>
    /// Row-grouped integer weights: <paramref name="bits"/> per value plus, per group of <paramref name="groupSize"/>
    /// values along the input dimension (0: one group per row), an f16 scale and a zero point of the same width
    /// (GPTQ/AWQ pack zeros as <paramref name="bits"/>-bit integers).
    /// </summary>
    public static TensorStorage Grouped(int bits, int groupSize, bool zeroPoint) =>
        new($"INT{bits}" + (groupSize > 0 ? $"-g{groupSize}" : "-per-channel"), 1, 0, bits, groupSize, 16 + (zeroPoint ? bits : 0));

    /// <summary>Average bits per value for rows of <paramref name="rowLength"/> values.</summary>
    public double BitsPerWeight(long rowLength) => (double)RowBits(rowLength) / rowLength;

    /// <summary>Storage bits of one row of <paramref name="rowLength"/> values.</summary>
    public long RowBits(long rowLength)
    {
        if (Bits > 0)
        {
            var groups = GroupSize > 0 ? (rowLength + GroupSize - 1) / GroupSize : 1;
            return rowLength * Bits + groups * GroupOverheadBits;
        }

        var blocks = (rowLength + BlockElements - 1) / BlockElements;
        return blocks * BlockBytes * 8L;
    }
}
