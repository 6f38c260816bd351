using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Simulation;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

/// <summary>
/// Consensus orders and the executor executes: a commit hands the block over and goes on; the app hash comes back
/// later, is recorded, settles leaders' claims about that height and is what this validator's own proposals claim; a
/// leader whose executor lags past the bound waits for it, and proposes without transactions if the wait runs out.
/// </summary>
[Trait("Category", "Unit")]
public sealed class DecoupledExecutionTests
{
    private static readonly PeerId Peer = new(1);
    private readonly TestChain _t = new();

    private const long Now = TestChain.GenesisTime + 10_000;

    private Block B1 => _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);

    /// <summary>Validator 3 gets B1 and B2 and forms B2's QC as the leader of round 3: it commits B1 and proposes in round 3.</summary>
    private (List<ReplicaEffect> Effects, Block B2) CommitB1AsLeaderOfRound3(Replica replica)
    {
        var b2 = _t.Block(2, B1);
        replica.OnMessage(Peer, _t.Propose(B1), Now);
        replica.OnMessage(Peer, _t.Propose(b2), Now);
        replica.OnMessage(Peer, _t.Vote(0, b2.Id, 2), Now);
        replica.OnMessage(Peer, _t.Vote(1, b2.Id, 2), Now);
        return ([.. replica.OnMessage(Peer, _t.Vote(2, b2.Id, 2), Now)], b2);
    }

    [Fact]
    public void A_commit_hands_the_block_to_the_executor_and_the_reported_app_hash_is_recorded()
    {
        var store = new SimBlockStore();
        var replica = _t.Replica(3, store: store);

        var (effects, _) = CommitB1AsLeaderOfRound3(replica);

        Assert.Equal([B1.Id], effects.OfType<BlockCommitted>().Select(c => c.Block.Id));
        Assert.Equal((1L, 0L), (store.Height, store.ExecutedHeight));
        Assert.Equal(0, replica.ExecutedHeight);

        var appHash = Hash32.Compute("state after 1"u8);
        var executed = replica.OnExecuted(1, appHash, Now);

        Assert.Equal((1L, appHash), (store.ExecutedHeight, store.AppHashAt(1)));
        Assert.Equal((1L, appHash), (replica.ExecutedHeight, replica.ExecutedAppHash));
        Assert.Equal([(B1.Id, appHash)], executed.OfType<BlockExecuted>().Select(e => (e.Block.Id, e.AppHash)));
    }

    [Fact]
    public void A_report_for_a_height_that_is_not_the_next_committed_one_is_refused()
    {
        var replica = _t.Replica(3);
        CommitB1AsLeaderOfRound3(replica);

        Assert.Throws<InvalidOperationException>(() => replica.OnExecuted(2, Hash32.Zero, Now));
        replica.OnExecuted(1, Hash32.Zero, Now);
        Assert.Throws<InvalidOperationException>(() => replica.OnExecuted(1, Hash32.Zero, Now));
    }

    [Fact]
    public void A_leader_claims_the_state_it_has_executed_and_not_the_height_it_has_committed()
    {
        var replica = _t.Replica(3);
        replica.SubmitTransaction(TestChain.Tx(1));

        var (effects, b2) = CommitB1AsLeaderOfRound3(replica);

        var proposal = Assert.IsType<Proposal>(effects.OfType<Broadcast>().Single().Message);
        Assert.Equal((3L, b2.Id), (proposal.Round, proposal.Block.ParentId));
        Assert.Equal((0L, _t.Chain.GenesisAppHash), (proposal.Block.Header.ExecutedHeight, proposal.Block.Header.ExecutedAppHash));
        Assert.Single(proposal.Block.Transactions);
        Assert.Equal(0, replica.Counters.ProposalsHeldForExecution);
    }

    [Fact]
    public void A_leader_whose_executor_lags_past_the_bound_waits_for_it_and_then_proposes_with_transactions()
    {
        var replica = _t.Replica(3, options: new ReplicaOptions { MaxExecutionLagBlocks = 0 });
        replica.SubmitTransaction(TestChain.Tx(1));

        var (effects, _) = CommitB1AsLeaderOfRound3(replica);

        Assert.DoesNotContain(effects, e => e is Broadcast { Message: Proposal });
        Assert.Contains(effects, e => e is ArmRoundTimer { Round: 3 } timer && timer.DelayMs == ReplicaOptions.Default.Pacemaker.BaseTimeoutMs / 2);
        Assert.True(replica.IsWaitingToPropose);
        Assert.Equal(1, replica.Counters.ProposalsHeldForExecution);

        var appHash = Hash32.Compute("state after 1"u8);
        var proposal = Assert.Single(replica.OnExecuted(1, appHash, Now).OfType<Broadcast>().Select(b => b.Message).OfType<Proposal>());

        Assert.Single(proposal.Block.Transactions);
        Assert.Equal((1L, appHash), (proposal.Block.Header.ExecutedHeight, proposal.Block.Header.ExecutedAppHash));
        Assert.False(replica.IsWaitingToPropose);
    }

    [Fact]
    public void A_leader_whose_executor_still_lags_when_the_wait_is_over_proposes_without_transactions()
    {
        var replica = _t.Replica(3, options: new ReplicaOptions { MaxExecutionLagBlocks = 0 });
        replica.SubmitTransaction(TestChain.Tx(1));
        CommitB1AsLeaderOfRound3(replica);

        var proposal = Assert.Single(replica.OnTimer(3, Now).OfType<Broadcast>().Select(b => b.Message).OfType<Proposal>());

        Assert.Empty(proposal.Block.Transactions);
        Assert.Equal(1, replica.Mempool.Count);
        Assert.Equal(1, replica.Counters.ProposalsHeldForExecution);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_claim_about_a_height_not_yet_executed_here_is_checked_when_the_executor_gets_there(bool agrees)
    {
        var replica = _t.Replica(0);
        var b2 = _t.Block(2, B1);
        var claimed = Hash32.Compute("the leader's state after 1"u8);
        var b3 = Block.Create(3, 3, _t.QcFor(b2), 3, b2.Header.Timestamp + 1, [], 1, claimed, setHash: _t.Chain.Validators.Hash);
        replica.OnMessage(Peer, _t.Propose(B1), Now);
        replica.OnMessage(Peer, _t.Propose(b2), Now);

        var voted = replica.OnMessage(Peer, _t.Propose(b3), Now);
        var executed = replica.OnExecuted(1, agrees ? claimed : Hash32.Compute("another state"u8), Now);

        Assert.Contains(voted, e => e is BlockCommitted c && c.Block.Id == B1.Id);
        Assert.Contains(voted, e => e is SendToValidator { Message: Vote v } && v.BlockId == b3.Id);
        Assert.Equal(agrees ? [] : [(1L, claimed, b3.Id)],
            executed.OfType<AppHashDivergence>().Select(d => (d.Height, d.Claimed, d.ClaimingBlock)));
    }

    [Fact]
    public void A_claim_about_a_height_executed_here_that_disagrees_gets_no_vote()
    {
        // Five validators, so that validator 0 leads none of rounds 1 to 4.
        var t = new TestChain(5);
        var replica = t.Replica(0);
        var b1 = t.Block(1, t.Chain.GenesisBlock, t.Chain.GenesisQc);
        var b2 = t.Block(2, b1);
        var b3 = t.Block(3, b2);
        replica.OnMessage(Peer, t.Propose(b1), Now);
        replica.OnMessage(Peer, t.Propose(b2), Now);
        replica.OnMessage(Peer, t.Propose(b3), Now);
        replica.OnExecuted(1, Hash32.Compute("state after 1"u8), Now);
        var b4 = Block.Create(4, 4, t.QcFor(b3), 4, b3.Header.Timestamp + 1, [], 1, Hash32.Compute("another state after 1"u8), setHash: t.Chain.Validators.Hash);

        var effects = replica.OnMessage(Peer, t.Propose(b4), Now);

        Assert.Contains(effects, e => e is AppHashDivergence { Height: 1 });
        Assert.DoesNotContain(effects, e => e is SendToValidator { Message: Vote });
    }
}
