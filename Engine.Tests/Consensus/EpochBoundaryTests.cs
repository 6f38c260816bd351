using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

/// <summary>Where a height stands in a replica's epoch: known only as far as execution has gone, then bounded by the reported end.</summary>
[Trait("Category", "Unit")]
public sealed class EpochBoundaryTests
{
    private static readonly Hash32 NextSet = Hash32.Compute("the next set"u8);

    [Fact]
    public void A_height_is_known_up_to_the_executed_one_plus_the_delay_until_the_end_is_reported()
    {
        var boundary = new EpochBoundary(epoch: 1, startHeight: 30);

        Assert.Equal(EpochPlace.Within, boundary.PlaceOf(50, executedHeight: 40));
        Assert.Equal(EpochPlace.Unknown, boundary.PlaceOf(51, executedHeight: 40));

        boundary.EndBefore(new NextEpoch(60, NextSet));

        Assert.Equal(59, boundary.LastHeight);
        Assert.Equal(EpochPlace.Within, boundary.PlaceOf(59, executedHeight: 40));
        Assert.Equal(EpochPlace.Beyond, boundary.PlaceOf(60, executedHeight: 40));
        Assert.Equal(EpochPlace.Beyond, boundary.PlaceOf(75, executedHeight: 40));
    }

    [Fact]
    public void The_end_is_reported_once_and_never_at_or_before_the_start()
    {
        var boundary = new EpochBoundary(epoch: 1, startHeight: 30);

        Assert.Throws<ArgumentOutOfRangeException>(() => boundary.EndBefore(new NextEpoch(30, NextSet)));
        Assert.Throws<ArgumentException>(() => boundary.EndBefore(new NextEpoch(45, Hash32.Zero)));
        boundary.EndBefore(new NextEpoch(45, NextSet));
        boundary.EndBefore(new NextEpoch(45, NextSet));
        Assert.Throws<InvalidOperationException>(() => boundary.EndBefore(new NextEpoch(46, NextSet)));
        Assert.Throws<InvalidOperationException>(() => boundary.EndBefore(new NextEpoch(45, Hash32.Compute("another set"u8))));
        Assert.Equal(NextSet, boundary.NextSetHash);
    }

    [Fact]
    public void An_epoch_proof_must_be_empty_blocks_of_its_epoch_naming_the_next_set_chained_under_a_two_chain()
    {
        var t = new TestChain();
        var last = t.Block(1, t.Chain.GenesisBlock, t.Chain.GenesisQc);
        var s1 = t.Block(2, last, nextSetHash: NextSet);
        var s2 = t.Block(3, s1, nextSetHash: NextSet);
        var withTransaction = t.Block(2, last, transactions: [TestChain.Tx(1)], nextSetHash: NextSet);
        var skipping = t.Block(4, s1, t.QcFor(s1), nextSetHash: NextSet);
        var unnamed = t.Block(2, last);
        var otherSet = t.Block(3, s1, nextSetHash: Hash32.Compute("another set"u8));

        Assert.Null(new EpochProof([s1], t.QcFor(s1)).ShapeProblem(0));
        Assert.Null(new EpochProof([s1, s2], t.QcFor(s2)).ShapeProblem(0));
        Assert.Contains("not an empty block of epoch 1", new EpochProof([s1], t.QcFor(s1)).ShapeProblem(1), StringComparison.Ordinal);
        Assert.Contains("not an empty block", new EpochProof([withTransaction], t.QcFor(withTransaction)).ShapeProblem(0), StringComparison.Ordinal);
        Assert.Contains("does not extend", new EpochProof([s2, s1], t.QcFor(s1)).ShapeProblem(0), StringComparison.Ordinal);
        Assert.Contains("two-chain", new EpochProof([s1, skipping], t.QcFor(skipping)).ShapeProblem(0), StringComparison.Ordinal);
        Assert.Contains("two-chain", new EpochProof([s1], t.QcFor(last)).ShapeProblem(0), StringComparison.Ordinal);
        Assert.Contains("next epoch's set", new EpochProof([unnamed], t.QcFor(unnamed)).ShapeProblem(0), StringComparison.Ordinal);
        Assert.Contains("next epoch's set", new EpochProof([s1, otherSet], t.QcFor(otherSet)).ShapeProblem(0), StringComparison.Ordinal);
        var proof = new EpochProof([s1], t.QcFor(s1));
        Assert.Equal((last.Id, 1L, NextSet), (proof.LastBlockId, proof.LastHeight, proof.NextSetHash));
    }
}
