using System.Diagnostics;
using System.Globalization;
using Fathom.Engine.Backends;
using Fathom.Engine.Backends.Cpu;
using Fathom.Engine.Quantization;
using Fathom.Engine.Quantization.Checkpoints;
using Fathom.Gguf;

namespace Fathom.Benchmarks;

/// <summary>
/// In-process A/B of the AWQ/GPTQ (<see cref="Int4ZeroPoint"/>) matmul on the CPU backend, one thread, the 1B shape's
/// up projection (2048 → 8192): the decoded-rows path (each row decoded to f32, f32 activations: what ran before the
/// interleaved kernels), the interleaved int8-activation kernel, the same for a GPTQ <c>desc_act</c> matrix (activations
/// gathered per call), and the same weights as interleaved Q4_0 (the target). Variants alternate within each round, so
/// load from other processes hits them alike; prints the load average with each round and the best time per variant.
/// Usage: <c>dotnet run -c Release --project tests/Fathom.Benchmarks -- int4-ab [rounds]</c>.
/// </summary>
internal static unsafe class Int4ZeroPointAb
{
    private const int In = 2048, Out = 8192, Group = 128;

    public static void Run(int rounds)
    {
        var source = new float[Out * In];
        var random = new Random(1);
        for (var i = 0; i < source.Length; i++)
        {
            source[i] = (float)((random.NextDouble() * 2) - 1) * 0.05f;
        }

        const string Prefix = "model.layers.0.mlp.up_proj";
        var awq = new QuantizedCheckpoint(new CheckpointQuantization(CheckpointQuantizationMethod.Awq, 4, Group, false, false, 0, []));
        var tensors = AwqGemm.Quantize(Prefix, source, Out, In, Group);
        CheckpointTensor? Find(string name) => tensors.FirstOrDefault(t => t.Name == name);
        var rowMajor = awq.Repack(Prefix, In, Out, Find)!.Data;
        var interleaved = awq.Repack(Prefix, In, Out, Find)!.Data;
        InterleavedInt4ZeroPointLayout.PackInPlace(interleaved, In, Out);

        var gptq = new QuantizedCheckpoint(new CheckpointQuantization(CheckpointQuantizationMethod.Gptq, 4, Group, false, true, 1, []));
        var actOrder = Enumerable.Range(0, In).OrderBy(i => (i * 7919) % 251).ToArray();
        var gptqTensors = Gptq.Quantize(Prefix, source, Out, In, Group, false, 1, actOrder);
        CheckpointTensor? FindGptq(string name) => gptqTensors.FirstOrDefault(t => t.Name == name);
        var descAct = gptq.Repack(Prefix, In, Out, FindGptq)!;
        InterleavedInt4ZeroPointLayout.PackInPlace(descAct.Data, In, Out);

        var q4 = GC.AllocateArray<byte>((int)InterleavedLayout.ByteSize(GgmlType.Q4_0, In, Out), pinned: true);
        var q4Rows = new byte[Q4_0.RowBytes((long)In * Out)];
        Q4_0.Quantize(source, q4Rows, source.Length);

        fixed (byte* old = rowMajor, fresh = interleaved, desc = descAct.Data, q4Source = q4Rows, q4Packed = q4)
        {
            InterleavedLayout.Pack(GgmlType.Q4_0, q4Source, In, Out, q4Packed);
            var variants = new (string Name, WeightMatrix Weight)[]
            {
                ("AWQ decoded rows (before)", new WeightMatrix("old", CheckpointTypes.Int4ZeroPoint, old, In, Out)),
                ("AWQ interleaved int8 (after)", new WeightMatrix("new", CheckpointTypes.Int4ZeroPoint, fresh, In, Out, interleaved: true)),
                ("GPTQ desc_act interleaved (after)", new WeightMatrix("desc", CheckpointTypes.Int4ZeroPoint, desc, In, Out, interleaved: true, columnOrder: descAct.ColumnOrder)),
                ("Q4_0 interleaved (target)", new WeightMatrix("q4", GgmlType.Q4_0, q4Packed, In, Out, interleaved: true)),
            };
            using var cpu = new CpuBackend(1);
            foreach (var tokens in new[] { 1, 64 })
            {
                var x = new float[tokens * In];
                for (var i = 0; i < x.Length; i++)
                {
                    x[i] = (float)((random.NextDouble() * 2) - 1);
                }

                var y = new float[tokens * Out];
                var best = new double[variants.Length];
                Array.Fill(best, double.MaxValue);
                var repeats = tokens == 1 ? 20 : 2;
                foreach (var (_, w) in variants)
                {
                    cpu.MatMul(x, tokens, new MatMulTarget(w, y)); // warm
                }

                for (var round = 0; round < rounds; round++)
                {
                    Console.WriteLine($"tokens {tokens}, round {round + 1}: load average {File.ReadAllText("/proc/loadavg").Trim()}");
                    for (var v = 0; v < variants.Length; v++)
                    {
                        var clock = Stopwatch.StartNew();
                        for (var r = 0; r < repeats; r++)
                        {
                            cpu.MatMul(x, tokens, new MatMulTarget(variants[v].Weight, y));
                        }

                        best[v] = Math.Min(best[v], clock.Elapsed.TotalMilliseconds / repeats);
                    }
                }

                Console.WriteLine($"| variant | tokens | best ms | GMAC/s | vs before | vs Q4_0 |");
                Console.WriteLine("|---|---|---|---|---|---|");
                for (var v = 0; v < variants.Length; v++)
                {
                    var gmac = (double)In * Out * tokens / (best[v] * 1e6);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {variants[v].Name} | {tokens} | {best[v]:F2} | {gmac:F2} | {best[0] / best[v]:F2}× | {best[^1] / best[v]:F2}× |"));
                }
            }
        }
    }
}
