using IdOS.Akka.Engine.Application;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Simulation;
using IdOS.Akka.Engine.Tests.Consensus;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Application;

/// <summary>Who governance counts as live: the signers of the certificates the last blocks carry, from committed headers only.</summary>
[Trait("Category", "Unit")]
public sealed class RecentSignersTests
{
    private readonly TestChain _t = new(validators: 4);

    [Fact]
    public void A_validator_is_live_while_one_of_the_last_window_blocks_carries_its_signature()
    {
        var signers = new RecentSigners(_t.Chain.Validators, window: 3);

        signers.Add(1, Header([0, 1, 2]));
        signers.Add(2, Header([0, 1, 3]));
        var withThree = signers.Live();
        signers.Add(3, Header([0, 1, 2]));
        signers.Add(4, Header([0, 1, 2]));
        var stillInWindow = signers.Live();
        signers.Add(5, Header([0, 1, 2]));
        var afterWindow = signers.Live();

        Assert.Equal(Keys(0, 1, 2, 3), withThree);
        Assert.Equal(Keys(0, 1, 2, 3), stillInWindow);
        Assert.Equal(Keys(0, 1, 2), afterWindow);
        Assert.Throws<InvalidOperationException>(() => signers.Add(7, Header([0, 1, 2])));
    }

    [Fact]
    public void A_restarted_node_fills_the_window_from_stored_headers_and_counts_what_one_that_ran_throughout_counts()
    {
        var store = new SimBlockStore();
        var parent = _t.Chain.GenesisBlock;
        var throughout = new RecentSigners(_t.Chain.Validators, window: 4);
        for (var height = 1; height <= 6; height++)
        {
            int[] chosen = height % 2 == 0 ? [0, 1, 2] : [1, 2, 3];
            var block = _t.Block(height, parent, _t.QcFor(parent, chosen));
            store.Append(block, _t.QcFor(block));
            throughout.Add(height, block.Header);
            parent = block;
        }

        var restarted = new RecentSigners(_t.Chain.Validators, window: 4);
        restarted.FillBelow(6, store);
        restarted.Add(6, store.GetByHeight(6)!.Header);

        Assert.Equal(throughout.Live(), restarted.Live());
    }

    [Fact]
    public void Signers_are_read_in_the_set_of_the_certified_blocks_epoch_so_a_joined_validator_counts_and_indices_that_moved_follow_their_keys()
    {
        var five = new TestChain(validators: 5);
        // From height 11 on: genesis's validator 0 removed, the fifth key joined; every index after 0 moved down by one.
        var later = new ValidatorSet([.. five.Keys.Skip(1).Select(k => k.PublicKey)]);
        var signers = new RecentSigners(height => height >= 11 ? later : _t.Chain.Validators, window: 2);

        signers.Add(11, Header([0, 1, 2]));
        var certifyingTen = signers.Live();
        signers.Add(12, Header([1, 2, 3]));
        var certifyingEleven = signers.Live();

        Assert.Equal(Keys(0, 1, 2), certifyingTen);
        Assert.Equal(Keys(0, 1, 2).Union([five.Keys[2].PublicKey.ToString(), five.Keys[3].PublicKey.ToString(), five.Keys[4].PublicKey.ToString()]).ToHashSet(),
            certifyingEleven);
    }

    private BlockHeader Header(int[] signers) => _t.Block(1, _t.Chain.GenesisBlock, _t.Qc(Hash32.Zero, 1, signers)).Header;

    private HashSet<string> Keys(params int[] indices) => [.. indices.Select(i => _t.Chain.Validators[i].ToString())];
}
