using Fathom.Engine.Backends.Cpu;

namespace Fathom.Engine.Tests.Backends;

/// <summary>
/// The row-batched forms of attention's dot and weighted sum compute, bit for bit, what the one-row forms compute:
/// the CPU backend's batch invariance rests on every score and every output element being one fixed sequence of float
/// operations. Runs on every kernel tier (<see cref="KernelTierTests.KernelSuites"/>), so both vector widths are covered.
/// </summary>
public sealed unsafe class SimdKernelsTests
{
    public static TheoryData<int, int> Shapes() => new()
    {
        { 1, 3 }, { 15, 1 }, { 16, 7 }, { 17, 5 }, { 48, 2 }, { 63, 4 }, { 64, 9 }, { 65, 3 }, { 80, 6 }, { 128, 11 }, { 130, 2 }, { 64, 0 }, { 64, 16 }, { 64, 37 }, { 32, 8 }, { 128, 23 }, { 16, 15 }, { 128, 16 }, { 64, 1 }, { 192, 17 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void DotRows_gives_each_row_the_single_dot_times_the_scale(int n, int count)
    {
        var rng = new Random(n * 31 + count);
        var a = Random(rng, n);
        var rows = Random(rng, Math.Max(1, count * n));
        var actual = new float[count + 1];
        actual[count] = 42f; // past the last row: never written
        const float Scale = 0.125f;
        fixed (float* pa = a, pr = rows, py = actual)
        {
            SimdKernels.DotRows(pa, pr, count, n, Scale, py);
            for (var r = 0; r < count; r++)
            {
                Assert.Equal(SimdKernels.Dot(pa, pr + (r * n), n) * Scale, actual[r]);
            }
        }

        Assert.Equal(42f, actual[count]);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void AddScaledRows_is_one_fused_multiply_add_per_row_in_row_order(int n, int count)
    {
        var rng = new Random(n * 17 + count);
        var rows = Random(rng, Math.Max(1, count * n));
        var w = Random(rng, Math.Max(1, count));
        var y = Random(rng, n);
        var expected = (float[])y.Clone();
        for (var i = 0; i < n; i++)
        {
            for (var r = 0; r < count; r++)
            {
                expected[i] = MathF.FusedMultiplyAdd(rows[(r * n) + i], w[r], expected[i]);
            }
        }

        fixed (float* py = y, pr = rows, pw = w)
        {
            SimdKernels.AddScaledRows(py, pr, pw, count, n);
        }

        Assert.Equal(expected, y);
    }

    // Magnitudes over several decades, so that a different order of the same operations rounds differently.
    private static float[] Random(Random rng, int n) =>
        [.. Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-3, 4))))];
}
