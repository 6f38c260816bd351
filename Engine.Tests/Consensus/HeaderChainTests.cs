using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

/// <summary>Following the committed chain from genesis by headers: only what the certificates and the two-chain rule prove.</summary>
[Trait("Category", "Unit")]
public sealed class HeaderChainTests
{
    private readonly TestChain _t = new();

    [Fact]
    public void Headers_in_consecutive_rounds_commit_all_but_the_last_two_each_with_the_qc_its_successor_carries()
    {
        var blocks = Chain(10, [TestChain.Tx(1)]);
        var headers = new HeaderChain(_t.Chain, Ed25519Verifier.Instance);

        var (committed, refusal) = headers.Add([.. blocks.Take(4).Select(Header)]);
        var (more, _) = headers.Add([.. blocks.Skip(4).Select(Header)]);

        Assert.Null(refusal);
        Assert.Equal(8, headers.CommittedHeight);
        Assert.Equal(blocks.Take(8).Select(b => b.Id), committed.Concat(more).Select(c => c.Header.Id));
        Assert.All(committed.Concat(more), c => Assert.Equal(c.Header.Id, c.Certificate.BlockId));
        Assert.Equal(11, headers.NextHeight);
    }

    [Fact]
    public void A_gap_in_rounds_holds_commits_back_until_two_consecutive_rounds_come()
    {
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);
        var b2 = _t.Block(3, b1);
        var b3 = _t.Block(5, b2);
        var b4 = _t.Block(6, b3);
        var b5 = _t.Block(7, b4);
        var headers = new HeaderChain(_t.Chain, Ed25519Verifier.Instance);

        Assert.Empty(headers.Add([Header(b1), Header(b2), Header(b3), Header(b4)]).Committed);
        Assert.Equal([b1.Id, b2.Id, b3.Id], headers.Add([Header(b5)]).Committed.Select(c => c.Header.Id));
    }

    [Fact]
    public void A_forged_qc_a_wrong_parent_a_skipped_height_or_hashes_the_root_does_not_commit_to_are_refused()
    {
        var blocks = Chain(5, [TestChain.Tx(2)]);
        var checks = new SignatureChecks(_t.Chain, Ed25519Verifier.Instance);
        var forgedQc = blocks[2].Header.Justify with { Signatures = [.. blocks[2].Header.Justify.Signatures.Select(s => s.Select(b => (byte)(b ^ 1)).ToArray())] };
        var forged = new PrunedBlock(blocks[2].Header with { Justify = forgedQc }, blocks[2].TransactionHashes);
        var otherHashes = new PrunedBlock(blocks[2].Header, [Hash32.Compute("other"u8)]);

        foreach (var (bad, reason) in new[] { (forged, "header 3"), (otherHashes, "Merkle root"), (Header(blocks[3]), "where 3 comes next") })
        {
            var headers = new HeaderChain(_t.Chain, Ed25519Verifier.Instance);
            var (_, refusal) = headers.Add([Header(blocks[0]), Header(blocks[1]), bad]);
            Assert.Contains(reason, refusal, StringComparison.Ordinal);
            Assert.Equal(3, headers.NextHeight);
        }

        var fork = _t.Block(2, _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc, [TestChain.Tx(3)]));
        Assert.Contains("not the child", new HeaderChain(_t.Chain, Ed25519Verifier.Instance).Add([Header(blocks[0]), Header(fork)]).Refusal, StringComparison.Ordinal);
    }

    /// <summary>
    /// Epoch 0's last block (height 3) is committed by the transition's empty block, which names the next set; that
    /// set (validator 0 out, 4 in) then signs epoch 1, whose first header carries the old set's QC for block 3.
    /// </summary>
    [Fact]
    public void A_transition_commits_the_last_block_of_an_epoch_and_the_next_set_it_names_checks_the_headers_after_it()
    {
        var next = _t.InEpoch(1, 1, 2, 3, 4);
        var (epoch0, transition) = EpochZeroEndingBefore(next);
        var e1 = next.Block(6, epoch0[^1], _t.QcFor(epoch0[^1]));
        var e2 = next.Block(7, e1);
        var e3 = next.Block(8, e2);
        var headers = new HeaderChain(_t.Chain, Ed25519Verifier.Instance);

        var (committed, refusal) = headers.Add([.. epoch0.Select(Header)], transition);
        Assert.Null(refusal);
        Assert.Equal(epoch0.Select(b => b.Id), committed.Select(c => c.Header.Id));
        Assert.Equal(epoch0[^1].Id, committed[^1].Certificate.BlockId);
        Assert.Equal((3L, 1L), (headers.CommittedHeight, headers.Epoch.Epoch));

        (committed, refusal) = headers.Add([Header(e1), Header(e2), Header(e3)]);
        Assert.Null(refusal);
        Assert.Equal([e1.Id], committed.Select(c => c.Header.Id));
    }

    [Fact]
    public void Headers_of_a_new_set_without_a_transition_a_set_other_than_the_one_named_and_a_proof_the_new_set_signed_are_refused()
    {
        var next = _t.InEpoch(1, 1, 2, 3, 4);
        var (epoch0, transition) = EpochZeroEndingBefore(next);
        var e1 = Header(next.Block(6, epoch0[^1], _t.QcFor(epoch0[^1])));
        var otherSet = _t.InEpoch(1, 0, 1, 2, 4).Chain.Validators;
        var proofByNewSet = transition.Proof with { Certificate = next.QcFor(transition.Proof.Suffix[^1]) };
        var e2ByOldSet = Header(_t.Block(7, next.Block(6, epoch0[^1], _t.QcFor(epoch0[^1]))));

        Assert.Contains("needs its transition first", Follow(epoch0, null, e1), StringComparison.Ordinal);
        Assert.Contains("its blocks name", Follow(epoch0, transition with { NextSet = otherSet }, e1), StringComparison.Ordinal);
        Assert.Contains("transition out of epoch 0", Follow(epoch0, transition with { Proof = proofByNewSet }, e1), StringComparison.Ordinal);
        Assert.Contains("header 5", Follow(epoch0, transition, e1, e2ByOldSet), StringComparison.Ordinal);
        Assert.Null(Follow(epoch0, transition, e1));
    }

    [Fact]
    public void Served_headers_end_at_an_epochs_last_block_with_the_transition_and_a_follower_reaches_the_next_epoch_with_them()
    {
        var next = _t.InEpoch(1, 1, 2, 3, 4);
        var (epoch0, transition) = EpochZeroEndingBefore(next);
        var e1 = next.Block(6, epoch0[^1], _t.QcFor(epoch0[^1]));
        var e2 = next.Block(7, e1);
        var e3 = next.Block(8, e2);
        List<PrunedBlock> stored = [.. epoch0.Append(e1).Append(e2).Append(e3).Select(Header)];
        EpochTransition? Kept(long epoch) => epoch == 0 ? transition : null;
        HeaderRangeResponse Serve(long from, int max, Func<long, EpochTransition?> kept, long epoch = 0) =>
            BlockServing.AnswerHeaders(new HeaderRangeRequest(from, max, epoch), _t.Chain.Limits, stored.Count, h => h <= stored.Count ? stored[(int)h - 1] : null, kept);

        var first = Serve(1, 64, Kept);
        Assert.Equal([1L, 2, 3], first.Headers.Select(h => h.Header.Height));
        Assert.Same(transition, first.Transition);
        Assert.Same(transition, Serve(2, 2, Kept).Transition);
        Assert.Null(Serve(1, 2, Kept).Transition);
        Assert.Null(Serve(1, 64, _ => null).Transition);
        Assert.Equal(3, Serve(1, 64, _ => null).Headers.Count);
        var after = Serve(4, 64, Kept, epoch: 1);
        Assert.Equal([4L, 5, 6], after.Headers.Select(h => h.Header.Height));
        Assert.Null(after.Transition);
        Assert.Null(Serve(5, 64, Kept, epoch: 0).Transition);

        // A follower whose first peer kept no transition asks another from the next epoch's first height.
        var follower = new HeaderChain(_t.Chain, Ed25519Verifier.Instance);
        var withoutTransition = Serve(1, 64, _ => null);
        Assert.Null(follower.Add(withoutTransition.Headers, withoutTransition.Transition).Refusal);
        var transitionOnly = Serve(follower.NextHeight, 64, Kept, follower.Epoch.Epoch);
        Assert.Empty(transitionOnly.Headers);
        Assert.Null(follower.Add(transitionOnly.Headers, transitionOnly.Transition).Refusal);
        Assert.Null(follower.Add(after.Headers, after.Transition).Refusal);
        Assert.Equal((4L, 1L), (follower.CommittedHeight, follower.Epoch.Epoch));
    }

    private string? Follow(List<Block> epoch0, EpochTransition? transition, params PrunedBlock[] after)
    {
        var headers = new HeaderChain(_t.Chain, Ed25519Verifier.Instance);
        var (_, refusal) = headers.Add([.. epoch0.Select(Header)], transition);
        return refusal ?? headers.Add(after).Refusal;
    }

    /// <summary>Blocks 1 to 3 of epoch 0, and the transition whose one empty block (round 4) commits block 3.</summary>
    private (List<Block> Blocks, EpochTransition Transition) EpochZeroEndingBefore(TestChain next)
    {
        var blocks = Chain(3, [TestChain.Tx(5)]);
        var beyond = _t.Block(4, blocks[^1], nextSetHash: next.Chain.Validators.Hash);
        return (blocks, new EpochTransition(new EpochProof([beyond], _t.QcFor(beyond)), next.Chain.Validators));
    }

    private List<Block> Chain(int length, IReadOnlyList<byte[]> transactions)
    {
        var blocks = new List<Block>();
        var parent = _t.Chain.GenesisBlock;
        for (var round = 1; round <= length; round++)
        {
            var block = round == 1 ? _t.Block(1, parent, _t.Chain.GenesisQc, transactions) : _t.Block(round, parent, transactions: transactions);
            blocks.Add(block);
            parent = block;
        }

        return blocks;
    }

    private static PrunedBlock Header(Block block) => new(block.Header, block.TransactionHashes);
}
