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
        Assert.Equal(32, BlockHasher.Hash(BlockHash.Root, Tokens, model).ToString().Length);
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
}
