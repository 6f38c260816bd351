using IdOS.Akka.Engine.Consensus;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

/// <summary>Where a height stands in a replica's epoch: known only as far as execution has gone, then bounded by the reported end.</summary>
[Trait("Category", "Unit")]
public sealed class EpochBoundaryTests
{
    [Fact]
    public void A_height_is_known_up_to_the_executed_one_plus_the_delay_until_the_end_is_reported()
    {
        var boundary = new EpochBoundary(epoch: 1, startHeight: 30);

        Assert.Equal(EpochPlace.Within, boundary.PlaceOf(50, executedHeight: 40));
        Assert.Equal(EpochPlace.Unknown, boundary.PlaceOf(51, executedHeight: 40));

        boundary.EndBefore(60);

        Assert.Equal(59, boundary.LastHeight);
        Assert.Equal(EpochPlace.Within, boundary.PlaceOf(59, executedHeight: 40));
        Assert.Equal(EpochPlace.Beyond, boundary.PlaceOf(60, executedHeight: 40));
        Assert.Equal(EpochPlace.Beyond, boundary.PlaceOf(75, executedHeight: 40));
    }

    [Fact]
    public void The_end_is_reported_once_and_never_at_or_before_the_start()
    {
        var boundary = new EpochBoundary(epoch: 1, startHeight: 30);

        Assert.Throws<ArgumentOutOfRangeException>(() => boundary.EndBefore(30));
        boundary.EndBefore(45);
        boundary.EndBefore(45);
        Assert.Throws<InvalidOperationException>(() => boundary.EndBefore(46));
    }

    [Fact]
    public void An_epoch_proof_must_be_empty_blocks_of_its_epoch_chained_under_a_two_chain()
    {
        var t = new TestChain();
        var last = t.Block(1, t.Chain.GenesisBlock, t.Chain.GenesisQc);
        var s1 = t.Block(2, last);
        var s2 = t.Block(3, s1);
        var withTransaction = t.Block(2, last, transactions: [TestChain.Tx(1)]);
        var skipping = t.Block(4, s1, t.QcFor(s1));

        Assert.Null(new EpochProof([s1], t.QcFor(s1)).ShapeProblem(0));
        Assert.Null(new EpochProof([s1, s2], t.QcFor(s2)).ShapeProblem(0));
        Assert.Contains("not an empty block of epoch 1", new EpochProof([s1], t.QcFor(s1)).ShapeProblem(1), StringComparison.Ordinal);
        Assert.Contains("not an empty block", new EpochProof([withTransaction], t.QcFor(withTransaction)).ShapeProblem(0), StringComparison.Ordinal);
        Assert.Contains("does not extend", new EpochProof([s2, s1], t.QcFor(s1)).ShapeProblem(0), StringComparison.Ordinal);
        Assert.Contains("two-chain", new EpochProof([s1, skipping], t.QcFor(skipping)).ShapeProblem(0), StringComparison.Ordinal);
        Assert.Contains("two-chain", new EpochProof([s1], t.QcFor(last)).ShapeProblem(0), StringComparison.Ordinal);
        Assert.Equal((last.Id, 1L), (new EpochProof([s1], t.QcFor(s1)).LastBlockId, new EpochProof([s1], t.QcFor(s1)).LastHeight));
    }
}
