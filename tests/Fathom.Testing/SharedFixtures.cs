using System.Collections.Concurrent;
using System.Security.Cryptography;
using Xunit;

namespace Fathom.Testing;

/// <summary>
/// Finds the read-only test data in <c>../shared</c> (or <c>$FATHOM_SHARED</c>), checks each file against
/// <c>SHA256SUMS</c>, and decides what a missing file means: a skip on a developer's machine, a failure
/// when <c>FATHOM_REQUIRE_FIXTURES=1</c> (CI).
/// </summary>
public sealed class SharedFixtures
{
    /// <summary>stories260K (F32, 5 layers, GQA 8/4, 512-token vocabulary): the model the service tests serve.</summary>
    public const string Stories260K = "models/stories260K.gguf";

    /// <summary>The id an engine serves <see cref="Stories260K"/> under unless told otherwise: the file name without extension.</summary>
    public const string Stories260KName = "stories260K";

    /// <summary>stories260K quantized to Q8_0, in GGUF version 2.</summary>
    public const string Stories260KQ8 = "models/stories260K-q8_0-gguf-v2.gguf";

    /// <summary>A Llama 2 shaped model with random weights.</summary>
    public const string LlamaTinyRandom = "models/llama-2-tiny-random.gguf";

    private const string SumsFileName = "SHA256SUMS";
    private readonly ConcurrentDictionary<string, Lazy<string>> _verified = new(StringComparer.Ordinal);
    private readonly Lazy<IReadOnlyDictionary<string, string>?> _sums;
    private readonly Action<string> _skip;

    /// <summary>The fixtures as this process sees them: env <c>FATHOM_SHARED</c>, else <c>../shared</c> beside the repository.</summary>
    public static SharedFixtures Default { get; } = new(LocateRoot(), RequiredByEnvironment());

    /// <param name="root">The fixtures folder (may not exist).</param>
    /// <param name="required">Whether a missing fixture fails rather than skips.</param>
    /// <param name="skip">How to skip the calling test; xUnit's dynamic skip unless a test of this class replaces it.</param>
    public SharedFixtures(string? root, bool required, Action<string>? skip = null)
    {
        Root = root;
        Required = required;
        _skip = skip ?? (reason => Assert.Skip(reason));
        _sums = new Lazy<IReadOnlyDictionary<string, string>?>(LoadSums);
    }

    /// <summary>The folder, or null when none was found.</summary>
    public string? Root { get; }

    /// <summary>True when a missing fixture must fail the test instead of skipping it.</summary>
    public bool Required { get; }

    /// <summary>Whether CI asked for fixtures to be mandatory.</summary>
    public static bool RequiredByEnvironment() =>
        Environment.GetEnvironmentVariable("FATHOM_REQUIRE_FIXTURES") is "1" or "true";

    /// <summary>
    /// The full path of <paramref name="relativePath"/> (e.g. <c>models/stories260K.gguf</c>), verified against
    /// SHA256SUMS. Skips the calling test when the file is missing, unless fixtures are required; throws
    /// <see cref="FixtureException"/> when the file is corrupt or unlisted.
    /// </summary>
    public string GetPath(string relativePath)
    {
        ArgumentException.ThrowIfNullOrEmpty(relativePath);
        var key = Normalize(relativePath);
        return _verified.GetOrAdd(key, k => new Lazy<string>(() => Verify(k))).Value;
    }

    /// <summary>True when the file exists (no hash check); lets data-driven tests enumerate what is present.</summary>
    public bool Exists(string relativePath) => Root is not null && File.Exists(Path.Combine(Root, relativePath));

    private string Verify(string key)
    {
        if (Root is null || !Directory.Exists(Root))
        {
            Missing($"the shared fixtures folder was not found (set FATHOM_SHARED or place shared/ beside the repository); needed '{key}'");
        }

        var path = Path.Combine(Root!, key);
        if (!File.Exists(path))
        {
            Missing($"fixture '{key}' is missing from {Root}");
        }

        var sums = _sums.Value ?? throw new FixtureException($"{Path.Combine(Root!, SumsFileName)} is missing: cannot verify '{key}'");
        if (!sums.TryGetValue(key, out var expected))
        {
            throw new FixtureException($"fixture '{key}' is not listed in {SumsFileName}");
        }

        using var stream = File.OpenRead(path);
        var actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
        {
            throw new FixtureException($"fixture '{key}' is corrupt: sha256 {actual}, expected {expected} (a bad copy of shared/?)");
        }
        return path;
    }

    private void Missing(string message)
    {
        if (Required)
        {
            throw new FixtureException(message + " (FATHOM_REQUIRE_FIXTURES=1)");
        }
        _skip(message);
        throw new FixtureException(message);
    }

    private Dictionary<string, string>? LoadSums()
    {
        var file = Root is null ? null : Path.Combine(Root, SumsFileName);
        if (file is null || !File.Exists(file))
        {
            return null;
        }

        var sums = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(file))
        {
            var trimmed = line.Trim();
            if (trimmed.Length == 0)
            {
                continue;
            }
            // sha256sum's format: "<hex>  <path>" (a '*' before the path marks binary mode).
            var space = trimmed.IndexOf(' ', StringComparison.Ordinal);
            if (space != 64)
            {
                throw new FixtureException($"{file}: malformed line '{trimmed}'");
            }
            sums[Normalize(trimmed[(space + 1)..].TrimStart(' ', '*'))] = trimmed[..space];
        }
        return sums;
    }

    private static string Normalize(string relativePath)
    {
        var p = relativePath.Replace('\\', '/');
        return p.StartsWith("./", StringComparison.Ordinal) ? p[2..] : p;
    }

    private static string? LocateRoot()
    {
        var fromEnv = Environment.GetEnvironmentVariable("FATHOM_SHARED");
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return Path.GetFullPath(fromEnv);
        }

        var repo = RepositoryRoot.TryFind();
        return repo is null ? null : Path.GetFullPath(Path.Combine(repo, "..", "shared"));
    }
}

/// <summary>A fixture exists but cannot be trusted, or is missing where it is required.</summary>
public sealed class FixtureException(string message) : Exception(message);
