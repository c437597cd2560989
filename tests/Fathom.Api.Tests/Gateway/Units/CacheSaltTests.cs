using Fathom.Api.Gateway;
using Microsoft.Extensions.Options;

namespace Fathom.Api.Tests.Gateway.Units;

public sealed class CacheSaltTests
{
    private static CacheSalt Salt(string mode = CacheSalt.PerKey, string? secret = null) =>
        new(Options.Create(new ApiOptions { PrefixCacheSharing = mode, CacheSaltSecret = secret }));

    [Fact]
    public void Per_key_salts_differ_between_keys_and_repeat_for_one_key()
    {
        var salt = Salt();

        string a = salt.For("key-a", null)!;
        Assert.Equal(a, salt.For("key-a", null));
        Assert.NotEqual(a, salt.For("key-b", null));
        Assert.DoesNotContain("key-a", a, StringComparison.Ordinal);
    }

    [Fact]
    public void A_client_salt_is_combined_with_the_key_so_no_client_can_choose_another_keys_salt()
    {
        var salt = Salt();
        string ofA = salt.For("key-a", null)!;

        Assert.NotEqual(ofA, salt.For("key-a", "mine"));
        Assert.NotEqual(salt.For("key-a", "mine"), salt.For("key-b", "mine"));
        Assert.NotEqual(ofA, salt.For("key-b", ofA));
        // Parts are length-prefixed: ("ab", "c") and ("a", "bc") do not meet.
        Assert.NotEqual(salt.For("ab", "c"), salt.For("a", "bc"));
    }

    [Fact]
    public void The_secret_keys_the_salt()
    {
        Assert.NotEqual(Salt(secret: "one").For("key-a", null), Salt(secret: "two").For("key-a", null));
        Assert.Equal(Salt(secret: "one").For("key-a", null), Salt(secret: "one").For("key-a", null));
    }

    [Fact]
    public void Global_sharing_forwards_the_clients_salt_as_sent()
    {
        var salt = Salt(CacheSalt.Global);

        Assert.Null(salt.For("key-a", null));
        Assert.Equal("mine", salt.For("key-a", "mine"));
    }

    [Fact]
    public void An_unknown_mode_stops_the_start() =>
        Assert.Throws<InvalidOperationException>(() => Salt("per-tenant"));
}
