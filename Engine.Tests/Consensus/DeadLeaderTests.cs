using IdOS.Akka.Engine.Consensus;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

/// <summary>A leader that is down costs its own round and not also the one before it.</summary>
[Trait("Category", "Unit")]
public sealed class DeadLeaderTests
{
    private const long Now = TestChain.GenesisTime + 10_000;
    private static readonly PeerId Peer = new(0);
    private readonly TestChain _t = new();

    [Fact]
    public void After_a_round_its_leader_missed_the_vote_for_the_round_before_that_leader_leads_goes_to_everyone()
    {
        var replica = _t.Replica(3);
        foreach (var voter in new[] { 0, 2 })
        {
            replica.OnMessage(Peer, _t.Timeout(voter, 1, _t.Chain.GenesisQc), Now);
        }

        Assert.Equal(2, replica.CurrentRound);

        var effects = replica.OnMessage(Peer, RoundFourProposal(), Now);

        var vote = Assert.IsType<Vote>(Assert.Single(effects.OfType<Broadcast>()).Message);
        Assert.Equal(4, vote.Round);
        Assert.Equal(3, Assert.Single(effects.OfType<SendToValidator>()).Validator);
    }

    [Fact]
    public void Without_a_missed_round_the_vote_goes_to_the_next_leader_alone()
    {
        // It has voted through round 3, so its journal vouches for round 4 (an empty one would hold the vote: the empty-journal guard).
        var replica = _t.Replica(3, SafetyState.Initial(_t.Chain) with { LastVotedRound = 3 });

        var effects = replica.OnMessage(Peer, RoundFourProposal(), Now);

        Assert.DoesNotContain(effects, e => e is Broadcast { Message: Vote });
        Assert.Equal(_t.Chain.Validators.LeaderOf(5), Assert.Single(effects.OfType<SendToValidator>()).Validator);
    }

    [Fact]
    public void A_validator_that_does_not_lead_the_next_round_forms_the_qc_from_votes_sent_to_everyone_and_moves_on()
    {
        var replica = _t.Replica(3);
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);
        replica.OnMessage(Peer, _t.Propose(b1), Now);

        foreach (var voter in new[] { 0, 1 })
        {
            replica.OnMessage(Peer, _t.Vote(voter, b1.Id, 1), Now);
        }

        var effects = replica.OnMessage(Peer, _t.Vote(2, b1.Id, 1), Now);

        Assert.Equal(2, replica.CurrentRound);
        Assert.Equal(1, replica.HighQc.Round);
        Assert.Contains(effects, e => e is ArmRoundTimer { Round: 2 });
    }

    /// <summary>Validator 0 leads round 4 after a TC for round 3, extending genesis; validator 1 leads round 5.</summary>
    private Proposal RoundFourProposal()
    {
        var block = _t.Block(4, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);
        Assert.Equal(0, block.Header.Proposer);
        Assert.Equal(1, _t.Chain.Validators.LeaderOf(5));
        return _t.Propose(block, _t.Tc(3, 0));
    }
}
