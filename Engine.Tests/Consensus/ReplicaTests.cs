using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Simulation;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

[Trait("Category", "Unit")]
public sealed class ReplicaTests
{
    private static readonly PeerId Peer = new(1);
    private static readonly int[] QuorumOfVoters = [0, 1, 2];
    private readonly TestChain _t = new();

    private const long Now = TestChain.GenesisTime + 10_000;

    private Block B1 => _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);

    private static string[] Rejections(IEnumerable<ReplicaEffect> effects) => [.. effects.OfType<MessageRejected>().Select(r => r.Reason)];

    [Fact]
    public void A_valid_proposal_is_persisted_then_voted_for_and_the_vote_goes_to_the_next_leader()
    {
        var replica = _t.Replica(2);

        var effects = replica.OnMessage(Peer, _t.Propose(B1), Now);

        var persist = effects.ToList().FindIndex(e => e is PersistSafetyState);
        var send = effects.ToList().FindIndex(e => e is SendToValidator);
        Assert.True(persist >= 0 && persist < send, string.Join(", ", effects));
        var vote = Assert.IsType<Vote>(((SendToValidator)effects[send]).Message);
        Assert.Equal((B1.Id, 1L, 2), (vote.BlockId, vote.Round, ((SendToValidator)effects[send]).Validator));
        Assert.Contains(effects, e => e is PersistBlock p && p.Block.Id == B1.Id);
    }

    public static TheoryData<string, string> ForgedProposals => new()
    {
        { "wrong leader", "the leader is 1" },
        { "signature over other bytes", "leader signature does not verify" },
        { "body does not match header", "do not match the header" },
        { "QC from the same round", "carries a QC of round 1" },
        { "skips a round without TC", "without a TC" },
        { "TC for the wrong round", "carries a TC for round 1" },
        { "forged QC", "does not verify" },
        { "QC with too few signers", "a quorum is 3" },
        { "timestamp far ahead", "ahead of local time" },
        { "height zero", "both start at 1" },
        { "no validator set named", "names epoch 0 and set 00000000" },
        { "another epoch", "names epoch 1 and set" },
    };

    [Theory]
    [MemberData(nameof(ForgedProposals))]
    public void Malformed_and_forged_proposals_are_rejected_never_thrown_and_never_voted(string forgery, string reason)
    {
        var genesis = _t.Chain.GenesisBlock;
        var gqc = _t.Chain.GenesisQc;
        var b1 = B1;
        var proposal = forgery switch
        {
            "wrong leader" => _t.Propose(_t.Block(1, genesis, gqc, proposer: 2)),
            "signature over other bytes" => _t.Propose(b1) with { Signature = _t.Keys[1].Sign(_t.Chain.Domain.Proposal(genesis.Id)) },
            "body does not match header" => new Proposal(Block.FromParts(b1.Header, [TestChain.Tx(1)]), _t.Propose(b1).Signature, null),
            "QC from the same round" => _t.Propose(_t.Block(1, genesis, _t.Qc(genesis.Id, 1))),
            "skips a round without TC" => _t.Propose(_t.Block(3, b1)),
            "TC for the wrong round" => _t.Propose(_t.Block(3, b1), _t.Tc(1, 0)),
            "forged QC" => _t.Propose(_t.Block(2, b1, _t.QcFor(b1) with { Round = 1, BlockId = genesis.Id })),
            "QC with too few signers" => _t.Propose(_t.Block(2, b1, _t.QcFor(b1, [0, 1]))),
            "timestamp far ahead" => _t.Propose(_t.Block(1, genesis, gqc, timestamp: Now + 60_000)),
            "height zero" => _t.Propose(Block.Create(1, 0, gqc, 1, Now, [], 0, _t.Chain.GenesisAppHash)),
            "no validator set named" => _t.Propose(Block.Create(1, 1, gqc, 1, Now, [], 0, _t.Chain.GenesisAppHash)),
            "another epoch" => _t.Propose(Block.Create(1, 1, gqc, 1, Now, [], 0, _t.Chain.GenesisAppHash, epoch: 1, setHash: _t.Chain.Validators.Hash)),
            _ => throw new ArgumentException(forgery),
        };
        var replica = _t.Replica(2);

        var effects = replica.OnMessage(Peer, proposal, Now);

        Assert.Contains(Rejections(effects), r => r.Contains(reason, StringComparison.Ordinal));
        Assert.DoesNotContain(effects, e => e is SendToValidator or PersistSafetyState);
    }

    /// <summary>Every proposal states its leader's app hash; a validator that computed another one reports it and does not vote.</summary>
    [Fact]
    public void A_leader_claiming_another_app_hash_is_reported_and_gets_no_vote()
    {
        var replica = _t.Replica(2);
        var wrong = Hash32.Compute("another state"u8);
        var block = Block.Create(1, 1, _t.Chain.GenesisQc, _t.Chain.Validators.LeaderOf(1), TestChain.GenesisTime + 1, [], 0, wrong, setHash: _t.Chain.Validators.Hash);

        var effects = replica.OnMessage(Peer, _t.Propose(block), Now);

        var divergence = Assert.Single(effects.OfType<AppHashDivergence>());
        Assert.Equal((0L, _t.Chain.GenesisAppHash, wrong, block.Id), (divergence.Height, divergence.Local, divergence.Claimed, divergence.ClaimingBlock));
        Assert.DoesNotContain(effects, e => e is SendToValidator or PersistSafetyState);
    }

    [Fact]
    public void A_validator_whose_clock_is_behind_does_not_vote_for_blocks_from_its_future_but_follows_their_certificates()
    {
        var replica = _t.Replica(2);
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc, timestamp: Now + 60_000);
        var b2 = _t.Block(2, b1);
        var b3 = _t.Block(3, b2);

        var first = replica.OnMessage(Peer, _t.Propose(b1), Now);
        replica.OnMessage(Peer, _t.Propose(b2), Now);
        var third = replica.OnMessage(Peer, _t.Propose(b3), Now);

        Assert.Contains(Rejections(first), r => r.Contains("ahead of local time", StringComparison.Ordinal));
        Assert.DoesNotContain(first.Concat(third), e => e is SendToValidator or PersistSafetyState);
        Assert.Equal(3, replica.CurrentRound);
        Assert.Equal([b1.Id], third.OfType<BlockCommitted>().Select(c => c.Block.Id));
    }

    [Fact]
    public void Votes_for_stale_rounds_or_far_ahead_or_badly_signed_are_rejected_and_a_validator_that_does_not_lead_takes_good_ones()
    {
        var replica = _t.Replica(2);
        replica.OnMessage(Peer, _t.Propose(B1), Now);
        var b2 = _t.Block(2, B1);
        replica.OnMessage(Peer, _t.Propose(b2), Now);
        var b3 = _t.Block(3, b2);
        replica.OnMessage(Peer, _t.Propose(b3), Now);

        Assert.Contains(Rejections(replica.OnMessage(Peer, _t.Vote(0, B1.Id, 1), Now)), r => r.Contains("stale vote", StringComparison.Ordinal));
        // Votes go to everyone when the next leader seems down, so a validator that does not lead takes them.
        Assert.Empty(Rejections(replica.OnMessage(Peer, _t.Vote(0, b3.Id, 3), Now)));
        Assert.Contains(Rejections(replica.OnMessage(Peer, _t.Vote(0, b3.Id, 1_000_006), Now)), r => r.Contains("too far ahead", StringComparison.Ordinal));
        var forged = _t.Vote(0, b3.Id, 5) with { Voter = 1 };
        Assert.Contains(Rejections(replica.OnMessage(Peer, forged, Now)), r => r.Contains("does not verify", StringComparison.Ordinal));
    }

    /// <summary>
    /// The next leader forms the QC that commits a block and is killed before it proposes: the QC exists nowhere else.
    /// Restarted from its store and its last durable safety state, it still holds that QC, so its timeouts and
    /// proposals show the others the commit it made (otherwise leaders drawn from the committed chain would differ).
    /// </summary>
    [Fact]
    public void A_restarted_validator_keeps_the_qc_that_proved_its_last_commit()
    {
        var store = new SimBlockStore();
        var replica = _t.Replica(3, store: store);
        var b2 = _t.Block(2, B1);
        replica.OnMessage(Peer, _t.Propose(B1), Now);
        replica.OnMessage(Peer, _t.Propose(b2), Now);
        replica.OnMessage(Peer, _t.Vote(0, b2.Id, 2), Now);
        replica.OnMessage(Peer, _t.Vote(1, b2.Id, 2), Now);
        var durable = replica.SafetyState;

        var effects = replica.OnMessage(Peer, _t.Vote(2, b2.Id, 2), Now);
        Assert.Contains(effects, e => e is BlockCommitted c && c.Block.Id == B1.Id);
        Assert.True(durable.HighQc.Round < 2);
        replica.OnExecuted(B1.Height, Hash32.Compute("app after 1"u8), Now);

        var restarted = new Replica(_t.Chain, 3, _t.Keys[3], Ed25519Verifier.Instance, store, durable, [B1, b2]);

        Assert.Equal((2L, b2.Id), (restarted.HighQc.Round, restarted.HighQc.BlockId));
        Assert.Equal(b2.Id, store.CommitProof!.BlockId);
    }

    /// <summary>
    /// A bare quorum split across two rounds: the validator ahead entered round 2 by a TC whose timeouts the others
    /// partly missed. Its round-2 timeout carries that TC, and a validator still in round 1 follows it.
    /// </summary>
    [Fact]
    public void A_timeout_carries_the_tc_its_round_was_entered_by_and_a_validator_behind_follows_it()
    {
        var ahead = InRoundTwoByTc();

        var timedOut = ahead.OnTimer(2, Now + 2_000);
        var sent = Assert.IsType<TimeoutVote>(Assert.Single(timedOut.OfType<Broadcast>()).Message);
        Assert.Equal((2L, 1L), (sent.Round, sent.LastRoundTc?.Round));
        Assert.True(ConsensusCodec.TryDecode(ConsensusCodec.Encode(sent), _t.Chain.Limits, out var decoded, out var error), error);
        Assert.Equal(sent.LastRoundTc!.Signers, Assert.IsType<TimeoutVote>(decoded).LastRoundTc!.Signers);

        var behind = _t.Replica(2);
        behind.Start(Now);
        var effects = behind.OnMessage(new PeerId(1), decoded, Now);

        Assert.Empty(Rejections(effects));
        Assert.Equal(2, behind.CurrentRound);
    }

    /// <summary>
    /// A QC that reached one validator only: the others time out in its round, but without the one ahead their
    /// timeouts make no TC. The one ahead answers a timeout from a round it has left with the QC that took it on,
    /// and the validator behind takes the QC and fetches the block it certifies.
    /// </summary>
    [Fact]
    public void A_validator_ahead_answers_a_timeout_from_an_earlier_round_with_the_qc_and_the_one_behind_follows_it()
    {
        var ahead = _t.Replica(2);
        ahead.Start(Now);
        ahead.OnMessage(Peer, _t.Propose(B1), Now);
        foreach (var voter in new[] { 0, 1, 3 })
        {
            ahead.OnMessage(new PeerId(voter), _t.Vote(voter, B1.Id, 1), Now);
        }

        Assert.Equal(2, ahead.CurrentRound);

        var answered = ahead.OnMessage(new PeerId(3), _t.Timeout(3, 1, _t.Chain.GenesisQc), Now);
        var reply = Assert.Single(answered.OfType<Reply>());
        var sync = Assert.IsType<RoundSync>(reply.Message);
        Assert.Equal((3, 1L, B1.Id), (reply.Peer.Value, sync.HighQc.Round, sync.HighQc.BlockId));
        Assert.Null(sync.LastRoundTc);
        Assert.True(ConsensusCodec.TryDecode(ConsensusCodec.Encode(sync), _t.Chain.Limits, out var decoded, out var error), error);

        var behind = _t.Replica(3);
        behind.Start(Now);
        var effects = behind.OnMessage(new PeerId(2), decoded, Now);

        Assert.Empty(Rejections(effects));
        Assert.Equal((2L, 1L), (behind.CurrentRound, behind.HighQc.Round));
        Assert.Contains(effects, e => e is Reply { Message: BlockRequest request } && request.BlockId == B1.Id);
    }

    [Fact]
    public void A_validator_that_entered_its_round_by_a_tc_answers_a_proposal_from_an_earlier_round_with_that_tc()
    {
        var ahead = InRoundTwoByTc();

        var answered = ahead.OnMessage(Peer, _t.Propose(B1), Now);
        var sync = Assert.IsType<RoundSync>(Assert.Single(answered.OfType<Reply>()).Message);
        Assert.Equal(1L, sync.LastRoundTc?.Round);

        var behind = _t.Replica(3);
        behind.Start(Now);
        Assert.Empty(Rejections(behind.OnMessage(new PeerId(1), sync, Now)));
        Assert.Equal(2, behind.CurrentRound);
    }

    [Fact]
    public void A_round_sync_with_a_forged_certificate_is_rejected_and_one_with_nothing_new_is_dropped_unchecked()
    {
        var replica = _t.Replica(3);
        replica.Start(Now);
        var qc = _t.QcFor(B1);
        var forgedQc = qc with { Signatures = [.. qc.Signatures.Select((s, i) => i == 0 ? _t.Keys[0].Sign(_t.Chain.Domain.Vote(B1.Id, 7)) : s)] };
        var validTc = _t.Tc(1, 0);
        var forgedTc = validTc with { Signatures = [.. validTc.Signatures.Select((s, i) => i == 0 ? _t.Keys[0].Sign(_t.Chain.Domain.Timeout(7, 0)) : s)] };

        var withForgedQc = replica.OnMessage(Peer, new RoundSync(forgedQc, null), Now);
        var withForgedTc = replica.OnMessage(Peer, new RoundSync(_t.Chain.GenesisQc, forgedTc), Now);
        var nothingNew = replica.OnMessage(Peer, new RoundSync(_t.Chain.GenesisQc, null), Now);

        Assert.Contains(Rejections(withForgedQc), r => r.Contains("does not verify", StringComparison.Ordinal));
        Assert.Contains(Rejections(withForgedTc), r => r.Contains("does not verify", StringComparison.Ordinal));
        Assert.Empty(nothingNew);
        Assert.Equal(1, replica.CurrentRound);
    }

    /// <summary>The failed proposers follow from the block's ancestry; a leader that names others gets no vote.</summary>
    [Fact]
    public void A_proposal_that_names_other_failed_proposers_than_its_ancestry_makes_is_not_voted_for()
    {
        var replica = _t.Replica(0);
        replica.Start(Now);
        var b3 = _t.Block(3, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);
        var misnamed = Block.FromParts(b3.Header with { FailedProposers = SignerBitmap.Create(_t.N, [0]) }, b3.Transactions);

        var effects = replica.OnMessage(Peer, _t.Propose(misnamed, _t.Tc(2, 0)), Now);

        Assert.Contains(Rejections(effects), r => r.Contains("names failed proposers [0]", StringComparison.Ordinal));
        Assert.DoesNotContain(effects, e => e is SendToValidator { Message: Vote } or Broadcast { Message: Vote });
    }

    [Fact]
    public void A_timeout_with_a_forged_tc_or_a_tc_of_another_round_is_rejected_and_moves_nobody()
    {
        var replica = _t.Replica(2);
        replica.Start(Now);
        var validTc = _t.Tc(1, 0);
        var forgedTc = validTc with { Signatures = [.. validTc.Signatures.Select((s, i) => i == 0 ? _t.Keys[0].Sign(_t.Chain.Domain.Timeout(7, 0)) : s)] };

        var forged = replica.OnMessage(Peer, _t.Timeout(1, 2, _t.Chain.GenesisQc) with { LastRoundTc = forgedTc }, Now);
        var wrongRound = replica.OnMessage(Peer, _t.Timeout(1, 3, _t.Chain.GenesisQc) with { LastRoundTc = validTc }, Now);

        Assert.Contains(Rejections(forged), r => r.Contains("does not verify", StringComparison.Ordinal));
        Assert.Contains(Rejections(wrongRound), r => r.Contains("carries a TC of round 1", StringComparison.Ordinal));
        Assert.Equal(1, replica.CurrentRound);
    }

    [Fact]
    public void A_second_proposal_for_a_round_is_evidence_and_is_not_voted_for()
    {
        var replica = _t.Replica(2);
        replica.OnMessage(Peer, _t.Propose(B1), Now);
        var rival = _t.Propose(_t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc, [TestChain.Tx(1)]));

        var effects = replica.OnMessage(Peer, rival, Now);

        Assert.Contains(effects, e => e is EquivocationDetected { Evidence.Kind: "two proposals", Evidence.Validator: 1 });
        Assert.DoesNotContain(effects, e => e is SendToValidator);
    }

    [Fact]
    public void Four_replicas_delivering_to_each_other_commit_the_same_blocks_with_the_same_app_hash()
    {
        var replicas = Enumerable.Range(0, 4).Select(i => _t.Replica(i)).ToArray();
        var mesh = new ReplicaMesh(replicas, _t.Chain, Now);
        var commits = mesh.Commits;

        mesh.Start(TestChain.Tx);
        mesh.Run(2_000);

        Assert.True(commits[0].Count >= 10, $"only {commits[0].Count} commits");
        var shortest = commits.Min(c => c.Count);
        Assert.All(commits, c => Assert.Equal(
            commits[0].Take(shortest).Select(x => (x.Block.Id, x.App)), c.Take(shortest).Select(x => (x.Block.Id, x.App))));
        var committedTxs = commits[0].SelectMany(c => c.Block.TransactionHashes).ToList();
        Assert.Equal(Enumerable.Range(0, 4).Select(i => Block.TransactionHash(TestChain.Tx(i))).Order(), committedTxs.Order());
        Assert.All(replicas, r => Assert.Equal(0, r.Mempool.Count));
    }

    [Fact]
    public void Transactions_submitted_together_are_each_answered_as_if_submitted_alone()
    {
        var store = new SimBlockStore();
        var committed = _t.Block(1, _t.Chain.GenesisBlock, transactions: [TestChain.Tx(1)]);
        store.AppendExecuted(committed, _t.QcFor(committed), _t.Chain.GenesisAppHash);
        var replica = _t.Replica(2, store: store);

        byte[][] submitted = [TestChain.Tx(1), TestChain.Tx(2), TestChain.Tx(2), TestChain.Tx(3)];
        var results = replica.SubmitTransactions(submitted);

        Assert.Equal([MempoolAddStatus.Duplicate, MempoolAddStatus.Added, MempoolAddStatus.Duplicate, MempoolAddStatus.Added], results.Select(r => r.Status));
        Assert.Contains("already committed", results[0].Reason, StringComparison.Ordinal);
        Assert.Contains("already pending", results[2].Reason, StringComparison.Ordinal);
        Assert.Equal(submitted.Select(t => Block.TransactionHash(t)), results.Select(r => r.Hash));
        Assert.Equal(2, replica.Mempool.Count);
        Assert.Equal(MempoolAddStatus.Duplicate, replica.SubmitTransaction(TestChain.Tx(1)).Status);
    }

    [Fact]
    public void A_restarted_replica_re_sends_its_stored_vote_and_never_signs_another_block_for_that_round()
    {
        var store = new SimBlockStore();
        var before = _t.Replica(2, store: store);
        var firstEffects = before.OnMessage(Peer, _t.Propose(B1), Now);
        var persisted = firstEffects.OfType<PersistSafetyState>().Single().State;
        var sentVote = (Vote)firstEffects.OfType<SendToValidator>().Single().Message;

        var after = _t.Replica(2, persisted, store);
        var again = after.OnMessage(Peer, _t.Propose(B1), Now);
        var rival = after.OnMessage(Peer, _t.Propose(_t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc, [TestChain.Tx(5)])), Now);

        Assert.Equal(1, after.CurrentRound);
        Assert.Equal(ConsensusCodec.Encode(sentVote), ConsensusCodec.Encode(again.OfType<SendToValidator>().Single().Message));
        Assert.DoesNotContain(again, e => e is PersistSafetyState);
        Assert.DoesNotContain(rival, e => e is SendToValidator);
    }

    [Fact]
    public void A_restarted_replica_gets_back_its_kept_blocks_and_commits_what_they_prove()
    {
        var b2 = _t.Block(2, B1);
        var b3 = _t.Block(3, b2);
        var store = new SimBlockStore();
        var replica = new Replica(_t.Chain, 2, _t.Keys[2], Ed25519Verifier.Instance, store, SafetyState.Initial(_t.Chain),
            [b3, B1, b2]);

        var effects = replica.Start(Now);

        Assert.Equal([B1.Id], effects.OfType<BlockCommitted>().Select(c => c.Block.Id));
        Assert.Equal(1, store.Height);
        Assert.Equal(B1.Id, store.CertificateAt(1)!.BlockId);
    }

    [Fact]
    public void A_leader_broadcasts_its_proposal_only_after_persisting_its_own_vote()
    {
        var leader = _t.Replica(1);

        var effects = leader.Start(Now).ToList();

        var persist = effects.FindIndex(e => e is PersistSafetyState);
        var broadcast = effects.FindIndex(e => e is Broadcast { Message: Proposal });
        Assert.True(persist >= 0 && persist < broadcast, string.Join(", ", effects));
        Assert.Equal(1, leader.SafetyState.LastVotedRound);
    }

    /// <summary>
    /// Validator 2 leads round 2. Its round-1 vote is durable before it can form QC(1), so its proposal leaves at once,
    /// ahead of keeping its own block, and its own vote is written after; restarted from that durable state (the block
    /// lost), it proposes nothing in round 2.
    /// </summary>
    [Fact]
    public void A_leader_whose_vote_in_the_round_before_is_durable_proposes_before_persisting_and_a_restart_does_not_propose_again()
    {
        var store = new SimBlockStore();
        var leader = _t.Replica(2, store: store);
        var voted = leader.OnMessage(Peer, _t.Propose(B1), Now);
        var durable = voted.OfType<PersistSafetyState>().Single().State;

        var effects = FormQcForB1(leader).ToList();

        var broadcast = effects.FindIndex(e => e is Broadcast { Message: Proposal { Round: 2 } });
        var keep = effects.FindIndex(e => e is PersistBlock { Block.Round: 2 });
        var persist = effects.FindIndex(e => e is PersistSafetyState);
        Assert.True(broadcast >= 0 && broadcast < keep && keep < persist, string.Join(", ", effects));
        Assert.Equal(2, leader.SafetyState.LastVotedRound);

        var restarted = _t.Replica(2, durable, store);
        restarted.OnMessage(Peer, _t.Propose(B1), Now);
        var afterRestart = FormQcForB1(restarted);

        Assert.Equal(2, restarted.CurrentRound);
        Assert.DoesNotContain(afterRestart, e => e is Broadcast { Message: Proposal });
        Assert.DoesNotContain(afterRestart, e => e is PersistSafetyState);
    }

    /// <summary>Validator 3 leads round 3 but never voted in round 2: its proposal waits for its own vote to be durable.</summary>
    [Fact]
    public void A_leader_without_a_durable_vote_in_the_round_before_persists_before_it_proposes()
    {
        var leader = _t.Replica(3);
        leader.OnMessage(Peer, _t.Propose(B1), Now);
        var b2 = _t.Block(2, B1);
        foreach (var voter in QuorumOfVoters)
        {
            leader.OnMessage(new PeerId(voter), _t.Vote(voter, b2.Id, 2), Now);
        }

        Assert.Equal(3, leader.CurrentRound);
        var effects = leader.OnMessage(Peer, new BlockResponse(b2.Id, [b2]), Now).ToList();

        var broadcast = effects.FindIndex(e => e is Broadcast { Message: Proposal { Round: 3 } });
        var persist = effects.FindIndex(e => e is PersistSafetyState);
        Assert.True(persist >= 0 && persist < broadcast, string.Join(", ", effects));
    }

    /// <summary>
    /// A proposal on a block this replica lacks makes it fetch the block; the answer's ancestors wait as orphans for
    /// their own parents. Bounded in bytes, only what fits is kept, and the next fetch asks for the parent of the
    /// lowest block kept.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fetched_blocks_held_for_their_ancestors_are_bounded_in_bytes(bool bounded)
    {
        var b2 = _t.Block(2, B1);
        var b3 = _t.Block(3, b2);
        var b4 = _t.Block(4, b3);
        var b5 = _t.Block(5, b4);
        var options = bounded ? new ReplicaOptions { MaxOrphanBytes = b4.EncodedSize } : new ReplicaOptions();
        var replica = _t.Replica(2, options: options);
        replica.Start(Now);
        Assert.Equal(b4.Id, Assert.Single(Requests(replica.OnMessage(Peer, _t.Propose(b5), Now))).BlockId);

        var effects = replica.OnMessage(Peer, new BlockResponse(b4.Id, [b4, b3, b2]), Now);

        Assert.Equal(bounded ? b3.Id : B1.Id, Assert.Single(Requests(effects)).BlockId);
    }

    /// <summary>
    /// Sync follows the certified chain: a fetched block of an abandoned fork, whose parent no peer may keep, is lower
    /// than the chain's missing blocks, and asking for its parent instead of theirs stalled a validator for good.
    /// </summary>
    [Fact]
    public void Sync_asks_for_the_missing_ancestor_of_the_high_qc_and_not_for_the_parent_of_a_lower_orphan_of_another_fork()
    {
        var y = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc, [TestChain.Tx(9)]);
        var fork = _t.Block(2, y);
        var b2 = _t.Block(2, B1);
        var b3 = _t.Block(3, b2);
        var b4 = _t.Block(4, b3);
        var b5 = _t.Block(5, b4);
        var replica = _t.Replica(2);
        replica.Start(Now);
        Assert.Equal(fork.Id, Assert.Single(Requests(replica.OnMessage(Peer, _t.Timeout(0, 3, _t.QcFor(fork)), Now))).BlockId);
        Assert.Equal(y.Id, Assert.Single(Requests(replica.OnMessage(Peer, new BlockResponse(fork.Id, [fork]), Now))).BlockId);
        Assert.Equal(b4.Id, Assert.Single(Requests(replica.OnMessage(Peer, _t.Propose(b5), Now))).BlockId);

        var effects = replica.OnMessage(Peer, new BlockResponse(b4.Id, [b4, b3]), Now);

        Assert.Equal(b2.Id, Assert.Single(Requests(effects)).BlockId);
    }

    /// <summary>A validator that follows the rounds from others' certificates never times out; a lost answer is asked for again anyway.</summary>
    [Fact]
    public void A_fetch_left_unanswered_goes_to_another_validator_once_overdue_without_a_round_timeout()
    {
        var b2 = _t.Block(2, B1);
        var replica = _t.Replica(3);
        replica.Start(Now);
        Assert.Equal(B1.Id, Assert.Single(Requests(replica.OnMessage(Peer, _t.Propose(b2), Now))).BlockId);
        var retryMs = ReplicaOptions.Default.FetchRetryMs;

        var early = replica.OnMessage(Peer, _t.Vote(0, b2.Id, 2), Now + retryMs - 1);
        var overdue = replica.OnMessage(Peer, _t.Vote(1, b2.Id, 2), Now + retryMs);

        Assert.Empty(Requests(early));
        var retry = Assert.Single(overdue.OfType<SendToValidator>(), e => e.Message is BlockRequest);
        Assert.Equal(B1.Id, ((BlockRequest)retry.Message).BlockId);
        Assert.NotEqual(Peer.Value, retry.Validator);
    }

    /// <summary>Validator 1, in round 2 by the TC of round 1 it formed from its own timeout and those of 0 and 2.</summary>
    private Replica InRoundTwoByTc()
    {
        var replica = _t.Replica(1);
        replica.Start(Now);
        replica.OnMessage(new PeerId(0), _t.Timeout(0, 1, _t.Chain.GenesisQc), Now);
        replica.OnMessage(new PeerId(2), _t.Timeout(2, 1, _t.Chain.GenesisQc), Now);
        Assert.Equal(2, replica.CurrentRound);
        return replica;
    }

    private static IEnumerable<BlockRequest> Requests(IEnumerable<ReplicaEffect> effects) =>
        effects.Select(e => e switch { Reply reply => reply.Message, SendToValidator send => send.Message, _ => null }).OfType<BlockRequest>();

    private IReadOnlyList<ReplicaEffect> FormQcForB1(Replica leader) =>
        [.. QuorumOfVoters.SelectMany(voter => leader.OnMessage(new PeerId(voter), _t.Vote(voter, B1.Id, 1), Now))];

    [Fact]
    public void Bytes_from_a_peer_never_make_the_replica_throw()
    {
        var rng = new SimRandom(11);
        var replica = _t.Replica(2);
        var b2 = _t.Block(2, B1);
        var samples = new ConsensusMessage[]
        {
            _t.Propose(B1), _t.Propose(b2), _t.Vote(0, B1.Id, 2), _t.Timeout(0, 2, _t.QcFor(B1)),
            new BlockRequest(B1.Id, 0, 64), new BlockResponse(b2.Id, [b2, B1]), _t.Propose(_t.Block(4, b2), _t.Tc(3, 2)),
        }.Select(ConsensusCodec.Encode).ToList();
        for (var i = 0; i < 5_000; i++)
        {
            var bytes = rng.Pick(samples).ToArray();
            if (rng.Chance(0.8))
            {
                bytes[rng.Next(bytes.Length)] ^= (byte)(1 + rng.Next(255));
            }

            if (ConsensusCodec.TryDecode(bytes, ConsensusLimits.Default, out var message, out _))
            {
                replica.OnMessage(new PeerId(rng.Next(4)), message, Now);
            }
        }

        Assert.True(replica.CurrentRound >= 1);
    }
}
