using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

[Trait("Category", "Unit")]
public sealed class BlockTreeTests
{
    private static readonly Func<Hash32, bool> NothingCommitted = _ => false;
    private readonly TestChain _t = new();

    private Block Genesis => _t.Chain.GenesisBlock;

    [Fact]
    public void Two_chain_rule_commits_the_parent_of_a_certified_block_from_the_next_round()
    {
        var tree = new BlockTree(Genesis);
        var b1 = _t.Block(1, Genesis, _t.Chain.GenesisQc);
        var b2 = _t.Block(2, b1);
        tree.TryInsert(b1, NothingCommitted);
        tree.TryInsert(b2, NothingCommitted);

        Assert.Empty(tree.CommitFor(_t.QcFor(b1)).Committed);
        var (committed, _) = tree.CommitFor(_t.QcFor(b2));

        Assert.Equal([b1.Id], committed.Select(b => b.Id));
        Assert.Equal(b1.Id, tree.Root.Id);
    }

    [Fact]
    public void A_gap_in_rounds_commits_nothing_until_a_consecutive_pair_is_certified()
    {
        var tree = new BlockTree(Genesis);
        var b1 = _t.Block(1, Genesis, _t.Chain.GenesisQc);
        var b3 = _t.Block(3, b1);
        var b4 = _t.Block(4, b3);
        foreach (var block in new[] { b1, b3, b4 })
        {
            tree.TryInsert(block, NothingCommitted);
        }

        Assert.Empty(tree.CommitFor(_t.QcFor(b3)).Committed);
        var (committed, _) = tree.CommitFor(_t.QcFor(b4));

        Assert.Equal([b1.Id, b3.Id], committed.Select(b => b.Id));
    }

    [Fact]
    public void Committing_prunes_the_forks_it_abandons()
    {
        var tree = new BlockTree(Genesis);
        var b1 = _t.Block(1, Genesis, _t.Chain.GenesisQc);
        var fork = _t.Block(2, Genesis, _t.Chain.GenesisQc, [TestChain.Tx(1)]);
        var forkChild = _t.Block(3, fork);
        var b4 = _t.Block(4, b1);
        var b5 = _t.Block(5, b4);
        foreach (var block in new[] { b1, fork, forkChild, b4, b5 })
        {
            Assert.Equal(InsertResult.Inserted, tree.TryInsert(block, NothingCommitted).Result);
        }

        var (committed, abandoned) = tree.CommitFor(_t.QcFor(b5));

        Assert.Equal([b1.Id, b4.Id], committed.Select(b => b.Id));
        Assert.Equal(new[] { fork.Id, forkChild.Id }.Order(), abandoned.Select(b => b.Id).Order());
        Assert.False(tree.Contains(fork.Id));
        Assert.True(tree.Contains(b5.Id));
        Assert.Equal(InsertResult.BelowCommitted, tree.TryInsert(_t.Block(6, Genesis, _t.Chain.GenesisQc, [TestChain.Tx(2)]), NothingCommitted).Result);
    }

    [Fact]
    public void A_block_without_its_parent_waits_for_it()
    {
        var b1 = _t.Block(1, Genesis, _t.Chain.GenesisQc);

        Assert.Equal(InsertResult.MissingParent, new BlockTree(Genesis).TryInsert(_t.Block(2, b1), NothingCommitted).Result);
    }

    [Fact]
    public void Blocks_that_do_not_fit_their_parent_are_rejected_with_a_reason()
    {
        var tree = new BlockTree(Genesis);
        var b1 = _t.Block(1, Genesis, _t.Chain.GenesisQc);
        tree.TryInsert(b1, NothingCommitted);
        var qc = _t.QcFor(b1);
        Block Make(long round, long height, QuorumCertificate justify, long timestamp, long executed = 0) =>
            Block.Create(round, height, justify, _t.Chain.Validators.LeaderOf(round), timestamp, [], executed, _t.Chain.GenesisAppHash);

        Assert.Contains("height 3", tree.TryInsert(Make(2, 3, qc, b1.Header.Timestamp + 1), NothingCommitted).Reason, StringComparison.Ordinal);
        Assert.Contains("QC of round 4", tree.TryInsert(Make(5, 2, qc with { Round = 4 }, b1.Header.Timestamp + 1), NothingCommitted).Reason, StringComparison.Ordinal);
        Assert.Contains("timestamp", tree.TryInsert(Make(2, 2, qc, b1.Header.Timestamp), NothingCommitted).Reason, StringComparison.Ordinal);
        Assert.Contains("executed height 2", tree.TryInsert(Make(2, 2, qc, b1.Header.Timestamp + 1, 2), NothingCommitted).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_transaction_may_appear_once_in_a_block_its_uncommitted_ancestors_and_the_committed_chain()
    {
        var tree = new BlockTree(Genesis);
        var b1 = _t.Block(1, Genesis, _t.Chain.GenesisQc, [TestChain.Tx(1)]);
        tree.TryInsert(b1, NothingCommitted);
        var committedTx = Block.TransactionHash(TestChain.Tx(9));

        Assert.Contains("twice", tree.TryInsert(_t.Block(2, b1, transactions: [TestChain.Tx(2), TestChain.Tx(2)]), NothingCommitted).Reason, StringComparison.Ordinal);
        Assert.Contains("already in its ancestor", tree.TryInsert(_t.Block(2, b1, transactions: [TestChain.Tx(1)]), NothingCommitted).Reason, StringComparison.Ordinal);
        Assert.Contains("already committed", tree.TryInsert(_t.Block(2, b1, transactions: [TestChain.Tx(9)]), h => h == committedTx).Reason, StringComparison.Ordinal);
        Assert.Equal(InsertResult.Inserted, tree.TryInsert(_t.Block(2, b1, transactions: [TestChain.Tx(2)]), NothingCommitted).Result);
    }
}
