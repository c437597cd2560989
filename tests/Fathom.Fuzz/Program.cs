using Fathom.Fuzz;
using SharpFuzz;

// fathom-fuzz                       libFuzzer mode (run under libfuzzer-dotnet; see README.md)
// fathom-fuzz --afl                 AFL mode (run under afl-fuzz)
// fathom-fuzz --seed-corpus DIR     write small valid GGUF files to DIR as a starting corpus
// fathom-fuzz --replay FILE...      run the target once per file, without a fuzzer (reproduce a crash)
// Put --safetensors first to fuzz the safetensors header parser instead of the GGUF reader.
var safetensors = args is ["--safetensors", ..];
if (safetensors)
{
    args = args[1..];
}

var target = safetensors ? (ReadOnlySpanAction)SafetensorsTarget.Run : GgufTarget.Run;
switch (args)
{
    case ["--seed-corpus", var directory]:
        Console.WriteLine($"wrote {(safetensors ? SafetensorsTarget.WriteSeeds(directory) : SeedCorpus.Write(directory))} seed files to {directory}");
        return 0;
    case ["--replay", .. var files] when files.Length > 0:
        foreach (var file in files)
        {
            target(File.ReadAllBytes(file));
            Console.WriteLine($"ok: {file}");
        }

        return 0;
    case ["--afl"]:
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            target(copy.ToArray());
        });
        return 0;
    case []:
        Fuzzer.LibFuzzer.Run(span => target(span));
        return 0;
    default:
        Console.Error.WriteLine("usage: fathom-fuzz [--safetensors] [--afl | --seed-corpus DIR | --replay FILE...]");
        return 2;
}

/// <summary>A fuzz target.</summary>
internal delegate void ReadOnlySpanAction(ReadOnlySpan<byte> input);
