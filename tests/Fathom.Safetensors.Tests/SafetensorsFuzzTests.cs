using System.Diagnostics;

namespace Fathom.Safetensors.Tests;

/// <summary>
/// Mutates a valid safetensors file (truncations, bit flips in the header and its length, huge lengths, JSON edits)
/// and checks that each mutant either opens cleanly or fails with <see cref="SafetensorsFormatException"/>. Seed and
/// case count come from FATHOM_SAFETENSORS_FUZZ_SEED / FATHOM_SAFETENSORS_FUZZ_CASES for longer runs.
/// </summary>
public sealed class SafetensorsFuzzTests
{
    private const int DefaultSeed = 20261207;

    [Fact]
    public void Mutants_open_or_fail_with_SafetensorsFormatException()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fathom-st-fuzz-{Guid.NewGuid():N}.safetensors");
        SafetensorsWriter.Write(path,
        [
            new("model.embed_tokens.weight", SafetensorsDType.BF16, [8, 4], new byte[64]),
            new("model.layers.0.self_attn.q_proj.weight", SafetensorsDType.F8_E4M3, [4, 4], new byte[16]),
            new("model.layers.0.self_attn.q_proj.weight_scale", SafetensorsDType.F32, [], new byte[4]),
            new("model.norm.weight", SafetensorsDType.F32, [4], new byte[16]),
        ], new Dictionary<string, string> { ["format"] = "pt" });
        var original = File.ReadAllBytes(path);
        File.Delete(path);
        var headerEnd = 8 + (int)BitConverter.ToUInt64(original, 0);
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FATHOM_SAFETENSORS_FUZZ_SEED"), out var s) ? s : DefaultSeed;
        var count = int.TryParse(Environment.GetEnvironmentVariable("FATHOM_SAFETENSORS_FUZZ_CASES"), out var c) ? c : 4000;
        var random = new Random(seed);
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i <= headerEnd; i++)
        {
            Check(original[..i], $"truncate at {i}");
        }

        for (var i = 0; i < count; i++)
        {
            var mutant = (byte[])original.Clone();
            string what;
            switch (random.Next(4))
            {
                case 0:
                    var flips = 1 + random.Next(6);
                    for (var k = 0; k < flips; k++)
                    {
                        mutant[random.Next(headerEnd)] ^= (byte)(1 << random.Next(8));
                    }

                    what = $"{flips} bit flips";
                    break;
                case 1:
                    var value = random.Next(4) switch { 0 => ulong.MaxValue, 1 => (ulong)original.Length, 2 => (ulong)random.Next(headerEnd + 16), _ => 1UL << 40 };
                    BitConverter.TryWriteBytes(mutant.AsSpan(0, 8), value);
                    what = $"header length {value}";
                    break;
                case 2:
                    // Replace a digit of the header by another: offsets, shapes and lengths disagree in every way.
                    var digits = Enumerable.Range(8, headerEnd - 8).Where(p => char.IsAsciiDigit((char)mutant[p])).ToList();
                    var at = digits[random.Next(digits.Count)];
                    mutant[at] = (byte)('0' + random.Next(10));
                    what = $"digit at {at}";
                    break;
                default:
                    var cut = random.Next(original.Length);
                    mutant = original[..cut];
                    what = $"truncate at {cut}";
                    break;
            }

            Check(mutant, what);
        }

        Assert.True(failures.Count == 0, $"{failures.Count} mutants failed (seed {seed}):\n{string.Join("\n", failures.Take(10))}");
        TestContext.Current.SendDiagnosticMessage($"{count + headerEnd + 1} safetensors mutants in {clock.ElapsedMilliseconds} ms (seed {seed})");

        void Check(byte[] bytes, string what)
        {
            try
            {
                using var file = SafetensorsFile.OpenBytes(bytes, "fuzz");
                long sink = 0;
                foreach (var t in file.Tensors)
                {
                    var data = file.GetTensorBytes(t);
                    sink += data.Length > 0 ? data[0] + data[^1] : 0;
                }

                GC.KeepAlive(sink);
            }
            catch (SafetensorsFormatException)
            {
            }
            catch (Exception e)
            {
                failures.Add($"{what}: {e.GetType().Name}: {e.Message}");
            }
        }
    }
}
