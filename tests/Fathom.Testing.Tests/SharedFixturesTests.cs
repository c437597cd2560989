using System.Security.Cryptography;
using System.Text;
using Fathom.Testing;

namespace Fathom.Testing.Tests;

public sealed class SharedFixturesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fathom-fixtures-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Real_shared_models_verify_against_their_sums()
    {
        var path = SharedFixtures.Default.GetPath(SharedFixtures.Stories260K);
        Assert.True(File.Exists(path));
        Assert.EndsWith("stories260K.gguf", path);
    }

    [Fact]
    public void A_file_whose_hash_matches_is_returned()
    {
        WriteFixture("a/data.bin", "hello", hashOf: "hello");
        var fixtures = new SharedFixtures(_dir, required: true);
        Assert.Equal(Path.Combine(_dir, "a/data.bin"), fixtures.GetPath("a/data.bin"));
        Assert.Equal(Path.Combine(_dir, "a/data.bin"), fixtures.GetPath("./a/data.bin"));
    }

    [Fact]
    public void A_hash_mismatch_fails_even_when_fixtures_are_optional()
    {
        WriteFixture("a/data.bin", "tampered", hashOf: "original");
        var fixtures = new SharedFixtures(_dir, required: false);
        var ex = Assert.Throws<FixtureException>(() => fixtures.GetPath("a/data.bin"));
        Assert.Contains("corrupt", ex.Message);
    }

    [Fact]
    public void A_file_missing_from_the_sums_fails()
    {
        WriteFixture("a/data.bin", "x", hashOf: "x");
        File.WriteAllText(Path.Combine(_dir, "b.bin"), "unlisted");
        var fixtures = new SharedFixtures(_dir, required: false);
        Assert.Contains("not listed", Assert.Throws<FixtureException>(() => fixtures.GetPath("b.bin")).Message);
    }

    [Fact]
    public void A_missing_folder_fails_when_fixtures_are_required()
    {
        var fixtures = new SharedFixtures(Path.Combine(_dir, "nowhere"), required: true);
        var ex = Assert.Throws<FixtureException>(() => fixtures.GetPath(SharedFixtures.Stories260K));
        Assert.Contains("FATHOM_REQUIRE_FIXTURES", ex.Message);
    }

    [Fact]
    public void A_missing_folder_skips_when_fixtures_are_optional()
    {
        var skips = new List<string>();
        var fixtures = new SharedFixtures(Path.Combine(_dir, "nowhere"), required: false, skips.Add);
        Assert.Throws<FixtureException>(() => fixtures.GetPath(SharedFixtures.Stories260K));
        Assert.Contains("not found", Assert.Single(skips));
    }

    [Fact]
    public void A_missing_file_fails_when_required_and_skips_otherwise()
    {
        WriteFixture("a/data.bin", "x", hashOf: "x");
        var skips = new List<string>();
        Assert.Throws<FixtureException>(() => new SharedFixtures(_dir, required: true, skips.Add).GetPath("a/gone.bin"));
        Assert.Empty(skips);
        Assert.Throws<FixtureException>(() => new SharedFixtures(_dir, required: false, skips.Add).GetPath("a/gone.bin"));
        Assert.Contains("a/gone.bin", Assert.Single(skips));
    }

    private void WriteFixture(string relative, string content, string hashOf)
    {
        var path = Path.Combine(_dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(hashOf)));
        File.AppendAllText(Path.Combine(_dir, "SHA256SUMS"), $"{hash}  ./{relative}\n");
    }
}
