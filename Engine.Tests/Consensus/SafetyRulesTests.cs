using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Simulation;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

[Trait("Category", "Unit")]
public sealed class SafetyRulesTests
{
    private readonly TestChain _t = new();

    private SafetyRules Rules() => new(_t.Chain, 0, _t.Keys[0], SafetyState.Initial(_t.Chain));

    private IVotingRules Mutant(ProtocolMutation mutation) => ProtocolMutations.Decorator(mutation, _t.Chain, 0, _t.Keys[0])!(Rules());

    private (Block B1, Proposal P1, Proposal P2) TwoRounds()
    {
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);
        var b2 = _t.Block(2, b1);
        return (b1, _t.Propose(b1), _t.Propose(b2));
    }

    [Fact]
    public void Votes_once_per_round_and_raises_the_last_voted_round()
    {
        var rules = Rules();
        var (b1, p1, _) = TwoRounds();

        var decision = rules.VoteFor(p1);

        Assert.True(decision.StateChanged);
        Assert.Equal(b1.Id, decision.Message!.BlockId);
        Assert.Equal(1, rules.State.LastVotedRound);
        Assert.Same(decision.Message, rules.State.LastVote);
    }

    [Fact]
    public void Asked_again_for_the_same_block_it_returns_the_stored_vote_and_never_signs_another_block()
    {
        var rules = Rules();
        var (b1, p1, _) = TwoRounds();
        var first = rules.VoteFor(p1).Message;
        var sibling = _t.Propose(_t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc, [TestChain.Tx(1)]));

        var again = rules.VoteFor(p1);
        var other = rules.VoteFor(sibling);

        Assert.Same(first, again.Message);
        Assert.False(again.StateChanged);
        Assert.Null(other.Message);
        Assert.Contains("already voted", other.Refusal, StringComparison.Ordinal);
        Assert.Equal(b1.Id, rules.State.LastVote!.BlockId);
    }

    [Fact]
    public void Refuses_rounds_at_or_below_the_last_voted_round()
    {
        var rules = Rules();
        var (_, p1, p2) = TwoRounds();
        rules.VoteFor(p2);

        Assert.Contains("not above the last voted round 2", rules.VoteFor(p1).Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_a_proposal_that_skips_a_round_without_a_TC()
    {
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);
        var b3 = _t.Block(3, b1);

        Assert.Contains("without a TC", Rules().VoteFor(_t.Propose(b3)).Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void After_a_TC_votes_only_for_a_QC_at_least_as_high_as_the_TC_reports()
    {
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);
        var b2 = _t.Block(2, b1);
        var extendsB1 = _t.Block(4, b1);
        var extendsB2 = _t.Block(4, b2);
        var tc = _t.Tc(3, 2);

        Assert.Contains("below the TC's highest QC round 2", Rules().VoteFor(_t.Propose(extendsB1, tc)).Refusal, StringComparison.Ordinal);
        Assert.NotNull(Rules().VoteFor(_t.Propose(extendsB2, tc)).Message);
        Assert.NotNull(Mutant(ProtocolMutation.SkipLockCheck).VoteFor(_t.Propose(extendsB1, tc)).Message);
    }

    [Fact]
    public void A_timeout_forbids_voting_in_its_round_and_is_re_sent_unchanged()
    {
        var rules = Rules();
        var (_, p1, _) = TwoRounds();

        var timeout = rules.TimeoutFor(1, _t.Chain.GenesisQc);
        var again = rules.TimeoutFor(1, _t.Chain.GenesisQc);

        Assert.True(timeout.StateChanged);
        Assert.Same(timeout.Message, again.Message);
        Assert.False(again.StateChanged);
        Assert.Null(rules.VoteFor(p1).Message);
    }

    [Fact]
    public void The_last_voted_round_mutant_votes_after_timing_out_and_votes_twice()
    {
        var mutant = Mutant(ProtocolMutation.SkipLastVotedRoundCheck);
        var (_, p1, _) = TwoRounds();
        var sibling = _t.Propose(_t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc, [TestChain.Tx(1)]));
        mutant.TimeoutFor(1, _t.Chain.GenesisQc);

        Assert.NotNull(mutant.VoteFor(p1).Message);
        Assert.NotNull(mutant.VoteFor(sibling).Message);
    }

    [Fact]
    public void A_timeout_reports_at_least_the_locked_QC()
    {
        var rules = Rules();
        var (b1, _, p2) = TwoRounds();
        rules.VoteFor(p2);

        var timeout = rules.TimeoutFor(3, _t.Chain.GenesisQc).Message!;

        Assert.Equal(b1.Id, timeout.HighQc.BlockId);
        Assert.Equal(1, timeout.HighQc.Round);
        Assert.Null(rules.TimeoutFor(1, _t.Chain.GenesisQc).Message);
    }

    [Fact]
    public void Refuses_a_key_that_is_not_the_validators()
    {
        Assert.Throws<ArgumentException>(() => new SafetyRules(_t.Chain, 1, _t.Keys[0], SafetyState.Initial(_t.Chain)));
    }
}
