using Fathom.Fuzz;
using SharpFuzz;

// fathom-fuzz                       libFuzzer mode (run under libfuzzer-dotnet; see README.md)
// fathom-fuzz --afl                 AFL mode (run under afl-fuzz)
// fathom-fuzz --seed-corpus DIR     write small valid GGUF files to DIR as a starting corpus
// fathom-fuzz --replay FILE...      run the target once per file, without a fuzzer (reproduce a crash)
switch (args)
{
    case ["--seed-corpus", var directory]:
        Console.WriteLine($"wrote {SeedCorpus.Write(directory)} seed files to {directory}");
        return 0;
    case ["--replay", .. var files] when files.Length > 0:
        foreach (var file in files)
        {
            GgufTarget.Run(File.ReadAllBytes(file));
            Console.WriteLine($"ok: {file}");
        }

        return 0;
    case ["--afl"]:
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            GgufTarget.Run(copy.ToArray());
        });
        return 0;
    case []:
        Fuzzer.LibFuzzer.Run(GgufTarget.Run);
        return 0;
    default:
        Console.Error.WriteLine("usage: fathom-fuzz [--afl | --seed-corpus DIR | --replay FILE...]");
        return 2;
}
