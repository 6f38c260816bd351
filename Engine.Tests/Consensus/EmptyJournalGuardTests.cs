using IdOS.Akka.Engine.Consensus;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

/// <summary>The empty-journal guard: a validator without its vote journal votes above round 1 only past the rounds 2f others are in, plus one.</summary>
[Trait("Category", "Unit")]
public sealed class EmptyJournalGuardTests
{
    private const long Now = TestChain.GenesisTime + 10_000;
    private readonly TestChain _t = new(validators: 7);

    [Fact]
    public void Round_one_is_free_and_later_rounds_wait_for_2f_others_then_start_two_past_the_highest()
    {
        var guard = new EmptyJournalGuard(_t.Chain.Validators, self: 0);

        Assert.True(guard.MayVoteIn(1));
        Assert.False(guard.MayVoteIn(40));
        guard.Heard(0, 90);
        guard.Heard(1, 30);
        guard.Heard(2, 38);
        guard.Heard(1, 31);
        Assert.False(guard.MayVoteIn(40));
        Assert.Equal(-1, guard.AbstainsThrough);

        guard.Heard(3, 12);
        guard.Heard(4, 20);
        guard.Heard(5, 99);

        Assert.Equal(39, guard.AbstainsThrough);
        Assert.False(guard.MayVoteIn(39));
        Assert.True(guard.MayVoteIn(40));
    }

    [Fact]
    public void Only_a_validator_without_anything_journaled_in_a_set_that_tolerates_a_fault_needs_it()
    {
        var initial = SafetyState.Initial(_t.Chain);

        Assert.True(EmptyJournalGuard.IsNeeded(initial, _t.Chain.Validators));
        Assert.False(EmptyJournalGuard.IsNeeded(initial with { LastVotedRound = 3 }, _t.Chain.Validators));
        Assert.False(EmptyJournalGuard.IsNeeded(initial with { LastTimeout = _t.Timeout(0, 2, _t.Chain.GenesisQc) }, _t.Chain.Validators));
        Assert.False(EmptyJournalGuard.IsNeeded(SafetyState.Initial(new TestChain(validators: 3).Chain), new TestChain(validators: 3).Chain.Validators));
    }

    /// <summary>
    /// Four validators, validator 2 back with an emptied data folder in a network at round 8: the proposal of round 8
    /// gets no vote before it has heard two others, that of round 9 none either (two rounds past the highest heard are
    /// needed), and that of round 11 gets one.
    /// </summary>
    [Fact]
    public void A_validator_back_without_its_journal_votes_in_a_running_network_only_from_two_rounds_past_what_it_heard()
    {
        var four = new TestChain();
        var replica = four.Replica(2);
        replica.Start(Now);
        var b1 = four.Block(1, four.Chain.GenesisBlock, four.Chain.GenesisQc);

        var eighth = replica.OnMessage(new PeerId(0), four.Propose(four.Block(8, b1), four.Tc(7, 1)), Now).ToList();
        eighth.AddRange(replica.OnMessage(new PeerId(0), new BlockResponse(b1.Id, [b1]), Now));
        Assert.DoesNotContain(eighth, IsVote);

        replica.OnMessage(new PeerId(3), four.Timeout(3, 8, four.QcFor(b1)) with { LastRoundTc = four.Tc(7, 1) }, Now);
        var ninth = replica.OnMessage(new PeerId(1), four.Propose(four.Block(9, b1), four.Tc(8, 1)), Now);
        Assert.DoesNotContain(ninth, IsVote);

        var eleventh = replica.OnMessage(new PeerId(3), four.Propose(four.Block(11, b1), four.Tc(10, 1)), Now);
        Assert.Contains(eleventh, IsVote);
    }

    private static bool IsVote(ReplicaEffect effect) => effect is SendToValidator { Message: Vote } or Broadcast { Message: Vote };
}
