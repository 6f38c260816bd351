using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

[Trait("Category", "Unit")]
public sealed class AggregatorTests
{
    private readonly TestChain _t = new();
    private readonly Hash32 _a = Hash32.Compute("a"u8);
    private readonly Hash32 _b = Hash32.Compute("b"u8);

    [Fact]
    public void A_QC_forms_once_at_exactly_a_quorum_of_distinct_voters_and_verifies()
    {
        var votes = new VoteAggregator(_t.Chain.Validators);

        Assert.Null(votes.Add(_t.Vote(3, _a, 4)).Qc);
        Assert.Null(votes.Add(_t.Vote(3, _a, 4)).Qc);
        Assert.Null(votes.Add(_t.Vote(1, _a, 4)).Qc);
        var qc = votes.Add(_t.Vote(0, _a, 4)).Qc;
        Assert.Null(votes.Add(_t.Vote(2, _a, 4)).Qc);

        Assert.NotNull(qc);
        Assert.Equal([0, 1, 3], SignerBitmap.Signers(qc.Signers));
        Assert.True(_t.Checks.CheckQc(qc).IsAccepted);
    }

    [Fact]
    public void A_second_vote_for_another_block_is_evidence_and_does_not_count()
    {
        var votes = new VoteAggregator(_t.Chain.Validators);
        votes.Add(_t.Vote(0, _a, 4));
        votes.Add(_t.Vote(1, _b, 4));
        votes.Add(_t.Vote(2, _b, 4));

        var (qc, evidence) = votes.Add(_t.Vote(0, _b, 4));

        Assert.Null(qc);
        Assert.Equal(0, evidence!.Validator);
        Assert.Equal("two votes", evidence.Kind);
    }

    [Fact]
    public void Timeouts_signal_at_f_plus_one_and_form_a_TC_at_a_quorum_with_the_highest_QC_round()
    {
        var timeouts = new TimeoutAggregator(_t.Chain.Validators);
        var low = _t.Qc(_a, 2);
        var high = _t.Qc(_b, 3);

        var first = timeouts.Add(_t.Timeout(0, 5, low));
        var second = timeouts.Add(_t.Timeout(2, 5, high));
        var third = timeouts.Add(_t.Timeout(3, 5, low));

        Assert.False(first.ReachedOneHonest);
        Assert.True(second.ReachedOneHonest);
        Assert.False(third.ReachedOneHonest);
        Assert.Equal(3, third.Certificate!.MaxHighQcRound);
        Assert.True(_t.Checks.CheckTc(third.Certificate).IsAccepted);
        Assert.Null(timeouts.Add(_t.Timeout(1, 5, low)).Certificate);
    }

    [Fact]
    public void Two_different_timeouts_for_one_round_are_evidence()
    {
        var timeouts = new TimeoutAggregator(_t.Chain.Validators);
        timeouts.Add(_t.Timeout(0, 5, _t.Qc(_a, 2)));

        Assert.Equal("two timeouts", timeouts.Add(_t.Timeout(0, 5, _t.Qc(_b, 3))).Evidence!.Kind);
        Assert.Null(timeouts.Add(_t.Timeout(0, 5, _t.Qc(_a, 2))).Evidence);
    }

    [Fact]
    public void Round_timers_double_per_consecutive_timeout_up_to_the_cap()
    {
        var policy = new PacemakerPolicy(500, 8_000);

        Assert.Equal([500, 1_000, 2_000, 4_000, 8_000, 8_000], Enumerable.Range(0, 6).Select(policy.TimeoutFor));
        Assert.Equal(8_000, policy.TimeoutFor(int.MaxValue));
    }

    [Fact]
    public void Round_robin_and_scheduled_leaders()
    {
        Assert.Equal([1, 2, 3, 0, 1], Enumerable.Range(1, 5).Select(r => _t.Chain.Validators.LeaderOf(r)));
        var scheduled = new ValidatorSet([.. _t.Keys.Select(k => k.PublicKey)], [2, 2, 0]);

        Assert.Equal([2, 0, 2, 2, 0], Enumerable.Range(1, 5).Select(r => scheduled.LeaderOf(r)));
        Assert.Throws<ArgumentException>(() => new ValidatorSet([.. _t.Keys.Select(k => k.PublicKey)], [4]));
        Assert.Equal((1, 3), (_t.Chain.Validators.MaxFaulty, _t.Chain.Validators.Quorum));
        Assert.Equal((3, 7), (new TestChain(10).Chain.Validators.MaxFaulty, new TestChain(10).Chain.Validators.Quorum));
    }
}
