using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Fathom.Engine.KvCache;

namespace Fathom.Engine.Tests.KvCache;

public sealed class BlockHasherTests
{
    private static readonly int[] Tokens = [1, 2, 3, 4];

    [Fact]
    public void The_same_inputs_give_the_same_key()
    {
        var model = ModelFingerprint.Of("llama-1b q8_0 bs16");
        Assert.Equal(BlockHasher.Hash(BlockHash.Root, Tokens, model), BlockHasher.Hash(BlockHash.Root, [1, 2, 3, 4], model));
        Assert.Equal(64, BlockHasher.Hash(BlockHash.Root, Tokens, model).ToString().Length);
    }

    [Fact]
    public void Same_tokens_under_different_parents_differ()
    {
        var model = ModelFingerprint.Of("m");
        var parentA = BlockHasher.Hash(BlockHash.Root, [9, 9, 9, 9], model);
        var parentB = BlockHasher.Hash(BlockHash.Root, [9, 9, 9, 8], model);
        Assert.NotEqual(BlockHasher.Hash(parentA, Tokens, model), BlockHasher.Hash(parentB, Tokens, model));
        Assert.NotEqual(BlockHasher.Hash(parentA, Tokens, model), BlockHasher.Hash(BlockHash.Root, Tokens, model));
    }

    [Fact]
    public void Same_tokens_under_different_model_fingerprints_differ() =>
        Assert.NotEqual(
            BlockHasher.Hash(BlockHash.Root, Tokens, ModelFingerprint.Of("model-a")),
            BlockHasher.Hash(BlockHash.Root, Tokens, ModelFingerprint.Of("model-b")));

    [Fact]
    public void Token_order_and_values_matter()
    {
        var model = ModelFingerprint.Of("m");
        Assert.NotEqual(BlockHasher.Hash(BlockHash.Root, [1, 2, 3, 4], model), BlockHasher.Hash(BlockHash.Root, [2, 1, 3, 4], model));
        Assert.NotEqual(BlockHasher.Hash(BlockHash.Root, [1, 2, 3, 4], model), BlockHasher.Hash(BlockHash.Root, [1, 2, 3, 5], model));
    }

    [Fact]
    public void ExtendChain_links_each_block_to_the_previous_key()
    {
        var model = ModelFingerprint.Of("m");
        int[] tokens = [.. Enumerable.Range(0, 10)];
        var chain = new List<BlockHash>();
        BlockHasher.ExtendChain(chain, tokens, 4, 2, model);
        var first = BlockHasher.Hash(BlockHash.Root, tokens.AsSpan(0, 4), model);
        Assert.Equal([first, BlockHasher.Hash(first, tokens.AsSpan(4, 4), model)], chain);
    }

    [Fact]
    public void The_key_is_the_sha256_of_parent_fingerprint_and_little_endian_token_ids()
    {
        var model = ModelFingerprint.Of("m");
        var parent = BlockHasher.Hash(BlockHash.Root, [7, 8, 9, 10], model);
        var bytes = new byte[32 + 16 + (Tokens.Length * 4)];
        parent.Write(bytes);
        BinaryPrimitives.WriteUInt128LittleEndian(bytes.AsSpan(32), model.Value);
        for (int i = 0; i < Tokens.Length; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(48 + (4 * i)), Tokens[i]);
        }

        var key = BlockHasher.Hash(parent, Tokens, model);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), key.ToString());
        Assert.Equal(key, BlockHash.Read(SHA256.HashData(bytes)));
    }

    [Fact]
    public void A_cache_salt_changes_every_key_of_the_chain_and_the_same_salt_gives_the_same_chain()
    {
        var model = ModelFingerprint.Of("m");
        int[] tokens = [.. Enumerable.Range(0, 12)];
        List<BlockHash> Chain(string? salt)
        {
            var chain = new List<BlockHash>();
            BlockHasher.ExtendChain(chain, tokens, 4, 3, model, BlockHasher.RootFor(salt));
            return chain;
        }

        Assert.Equal(BlockHash.Root, BlockHasher.RootFor(null));
        Assert.Equal(BlockHash.Root, BlockHasher.RootFor(""));
        Assert.Equal(Chain(null), Chain(""));
        Assert.Equal(Chain("tenant-a"), Chain("tenant-a"));
        var unsalted = Chain(null);
        var a = Chain("tenant-a");
        var b = Chain("tenant-b");
        for (int i = 0; i < 3; i++)
        {
            Assert.NotEqual(unsalted[i], a[i]);
            Assert.NotEqual(a[i], b[i]);
        }

        // The salt is hashed with a domain prefix: it is not a block key of the same bytes.
        Assert.Equal(
            BlockHash.Read(SHA256.HashData([.. Encoding.ASCII.GetBytes("fathom-cache-salt/v1\0"), .. Encoding.UTF8.GetBytes("tenant-a")])),
            BlockHasher.RootFor("tenant-a"));
    }
}
