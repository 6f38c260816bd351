using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Tests.Crypto;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

/// <summary>Every way a QC, TC, vote or timeout can be forged or malformed is rejected with a reason, never thrown.</summary>
[Trait("Category", "Unit")]
public sealed class CertificateTests
{
    private readonly TestChain _t = new();
    private readonly Hash32 _block = Hash32.Compute("block"u8);

    [Fact]
    public void A_quorum_of_valid_signatures_is_a_valid_QC()
    {
        Assert.True(_t.Checks.CheckQc(_t.Qc(_block, 5)).IsAccepted);
        Assert.True(_t.Checks.CheckQc(_t.Qc(_block, 5, [0, 1, 2, 3])).IsAccepted);
        Assert.True(_t.Checks.CheckQc(_t.Chain.GenesisQc).IsAccepted);
    }

    [Fact]
    public void A_QC_once_verified_is_accepted_again_but_any_altered_copy_is_checked_afresh()
    {
        var checks = new SignatureChecks(_t.Chain, Ed25519Verifier.Instance);
        var qc = _t.Qc(_block, 5);
        var swapped = qc with { Signatures = [qc.Signatures[1], qc.Signatures[0], qc.Signatures[2]] };

        Assert.True(checks.CheckQc(qc).IsAccepted);
        Assert.True(checks.CheckQc(qc).IsAccepted);
        Assert.False(checks.CheckQc(swapped).IsAccepted);
        Assert.False(checks.CheckQc(qc with { Round = 6 }).IsAccepted);
        Assert.False(checks.CheckQc(qc with { Signers = SignerBitmap.Create(4, [0, 1, 3]) }).IsAccepted);
    }

    [Fact]
    public void A_validator_s_own_vote_is_accepted_without_a_check_only_where_it_matches_byte_for_byte()
    {
        var verifier = new CountingVerifier();
        var checks = new SignatureChecks(_t.Chain, verifier);
        checks.OwnVote(_t.Vote(0, _block, 5));

        Assert.True(checks.CheckVote(_t.Vote(0, _block, 5)).IsAccepted);
        Assert.True(checks.CheckQc(_t.Qc(_block, 5, [0, 1, 2])).IsAccepted);
        Assert.Equal(2, verifier.Calls);

        // Validator 0's signature of round 4 in a QC of round 5: compared, found different, checked, refused.
        var qc = _t.Qc(_block, 5, [0, 1, 2]);
        var stale = qc with { Signatures = [_t.Vote(0, _block, 4).Signature, qc.Signatures[1], qc.Signatures[2]] };
        Assert.False(checks.CheckQc(stale).IsAccepted);
        Assert.Equal(3, verifier.Calls);

        var other = Hash32.Compute("other"u8);
        Assert.True(checks.CheckQc(_t.Qc(other, 5, [0, 1, 2])).IsAccepted);
        Assert.Equal(6, verifier.Calls);
    }

    [Fact]
    public void A_validator_s_own_timeout_in_a_TC_is_accepted_without_a_check_only_where_it_matches_byte_for_byte()
    {
        var verifier = new CountingVerifier();
        var checks = new SignatureChecks(_t.Chain, verifier);
        checks.OwnTimeout(_t.Timeout(0, 5, _t.Qc(_block, 3)));

        Assert.True(checks.CheckTc(_t.Tc(5, 3, [0, 1, 2])).IsAccepted);
        Assert.Equal(2, verifier.Calls);

        // The same signature presented as validator 0's timeout with another high-QC round: checked, refused.
        var tc = _t.Tc(5, 3, [0, 1, 2]);
        var misreported = tc with { HighQcRounds = [2, 3, 3] };
        Assert.False(checks.CheckTc(misreported).IsAccepted);
        Assert.Equal(3, verifier.Calls);
        Assert.True(checks.CheckTc(_t.Tc(6, 3, [0, 1, 2])).IsAccepted);
        Assert.Equal(6, verifier.Calls);
    }

    [Fact]
    public void Too_few_signers_is_rejected()
    {
        var verdict = _t.Checks.CheckQc(_t.Qc(_block, 5, [0, 1]));

        Assert.Contains("2 signers; a quorum is 3", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_signature_by_another_validator_than_the_bitmap_names_is_rejected()
    {
        var qc = _t.Qc(_block, 5, [0, 1, 2]);
        var forged = qc with { Signers = SignerBitmap.Create(4, [0, 1, 3]) };

        Assert.Contains("validator 3 does not verify", _t.Checks.CheckQc(forged).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void One_signer_counted_twice_is_rejected()
    {
        var qc = _t.Qc(_block, 5, [0, 1, 2]);
        var duplicated = qc with { Signatures = [qc.Signatures[0], qc.Signatures[0], qc.Signatures[1]] };

        Assert.False(_t.Checks.CheckQc(duplicated).IsAccepted);
    }

    [Fact]
    public void Signature_count_that_differs_from_the_bitmap_is_rejected()
    {
        var qc = _t.Qc(_block, 5, [0, 1, 2]);

        Assert.Contains("lists 2 signatures for 3 signers",
            _t.Checks.CheckQc(qc with { Signatures = [.. qc.Signatures.Take(2)] }).Reason, StringComparison.Ordinal);
        Assert.Contains("lists 4 signatures",
            _t.Checks.CheckQc(qc with { Signatures = [.. qc.Signatures, qc.Signatures[0]] }).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Bitmaps_of_the_wrong_length_or_naming_unknown_validators_are_rejected()
    {
        var qc = _t.Qc(_block, 5);

        Assert.Contains("expected 1", _t.Checks.CheckQc(qc with { Signers = [0b0111, 0] }).Reason, StringComparison.Ordinal);
        Assert.Contains("names validator 4", _t.Checks.CheckQc(qc with { Signers = [0b1_0111] }).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Signatures_over_other_bytes_are_rejected()
    {
        var otherRound = _t.Qc(_block, 6) with { Round = 5 };
        var otherBlock = _t.Qc(Hash32.Compute("other"u8), 5) with { BlockId = _block };
        var otherChain = new TestChain(chainId: "another-chain").Qc(_block, 5);

        Assert.False(_t.Checks.CheckQc(otherRound).IsAccepted);
        Assert.False(_t.Checks.CheckQc(otherBlock).IsAccepted);
        Assert.False(_t.Checks.CheckQc(otherChain).IsAccepted);
    }

    [Fact]
    public void Only_the_genesis_QC_may_have_round_zero()
    {
        Assert.Contains("genesis QC", _t.Checks.CheckQc(_t.Chain.GenesisQc with { BlockId = _block }).Reason, StringComparison.Ordinal);
        Assert.False(_t.Checks.CheckQc(_t.Qc(_t.Chain.GenesisBlock.Id, 0)).IsAccepted);
    }

    [Fact]
    public void Timeout_certificates_are_checked_like_QCs_and_their_high_QC_rounds_are_signed()
    {
        var tc = _t.Tc(7, 4);

        Assert.True(_t.Checks.CheckTc(tc).IsAccepted);
        Assert.Equal(4, tc.MaxHighQcRound);
        Assert.Contains("2 signers", _t.Checks.CheckTc(_t.Tc(7, 4, [1, 2])).Reason, StringComparison.Ordinal);
        Assert.Contains("does not verify", _t.Checks.CheckTc(tc with { HighQcRounds = [4, 4, 5] }).Reason, StringComparison.Ordinal);
        Assert.Contains("high-QC rounds", _t.Checks.CheckTc(tc with { HighQcRounds = [4, 4] }).Reason, StringComparison.Ordinal);
        Assert.Contains("reports a high QC of round 7", _t.Checks.CheckTc(_t.Tc(7, 7)).Reason, StringComparison.Ordinal);
        Assert.False(_t.Checks.CheckTc(tc with { Round = 8 }).IsAccepted);
        Assert.False(_t.Checks.CheckTc(tc with { Round = 0 }).IsAccepted);
    }

    [Fact]
    public void A_TC_with_a_signer_the_bitmap_does_not_name_or_one_signer_counted_twice_is_rejected()
    {
        var tc = _t.Tc(7, 4, [0, 1, 2]);
        var wrongSigner = tc with { Signers = SignerBitmap.Create(4, [0, 1, 3]) };
        var duplicated = tc with { Signatures = [tc.Signatures[0], tc.Signatures[0], tc.Signatures[2]] };
        var otherChain = new TestChain(chainId: "another-chain").Tc(7, 4);

        Assert.Contains("validator 3 does not verify", _t.Checks.CheckTc(wrongSigner).Reason, StringComparison.Ordinal);
        Assert.Contains("validator 1 does not verify", _t.Checks.CheckTc(duplicated).Reason, StringComparison.Ordinal);
        Assert.False(_t.Checks.CheckTc(otherChain).IsAccepted);
    }

    [Fact]
    public void Votes_are_checked_for_signer_round_and_signature()
    {
        var vote = _t.Vote(1, _block, 3);

        Assert.True(_t.Checks.CheckVote(vote).IsAccepted);
        Assert.Contains("validator 9", _t.Checks.CheckVote(vote with { Voter = 9 }).Reason, StringComparison.Ordinal);
        Assert.Contains("does not verify", _t.Checks.CheckVote(vote with { Voter = 2 }).Reason, StringComparison.Ordinal);
        Assert.Contains("does not verify", _t.Checks.CheckVote(vote with { Round = 4 }).Reason, StringComparison.Ordinal);
        Assert.Contains("at least 1", _t.Checks.CheckVote(_t.Vote(1, _block, 0)).Reason, StringComparison.Ordinal);
        Assert.False(_t.Checks.CheckVote(vote with { Signature = new byte[3] }).IsAccepted);
    }

    [Fact]
    public void Timeouts_are_checked_with_their_high_QC()
    {
        var qc = _t.Qc(_block, 3);
        var timeout = _t.Timeout(2, 5, qc);

        Assert.True(_t.Checks.CheckTimeout(timeout).IsAccepted);
        Assert.Contains("does not verify", _t.Checks.CheckTimeout(timeout with { Round = 6 }).Reason, StringComparison.Ordinal);
        Assert.Contains("carries a high QC of round 5", _t.Checks.CheckTimeout(_t.Timeout(2, 5, _t.Qc(_block, 5))).Reason, StringComparison.Ordinal);
        Assert.Contains("timeout of validator 2: QC has 2 signers",
            _t.Checks.CheckTimeout(_t.Timeout(2, 5, _t.Qc(_block, 3, [0, 1]))).Reason, StringComparison.Ordinal);
        Assert.Contains("validator 4", _t.Checks.CheckTimeout(timeout with { Voter = 4 }).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_signature_a_message_carries_is_checked_ahead_so_that_the_replicas_checks_find_them_in_a_shared_cache()
    {
        var counting = new CountingVerifier();
        var cache = new VerifiedSignatureCache(counting);
        var (proposal, vote, timeout) = OneOfEachMessage();

        var ahead = new SignatureChecks(_t.Chain, cache);
        Assert.All(new ConsensusMessage[] { proposal, vote, timeout }, m => Assert.True(ahead.CheckSignatures(m).IsAccepted));
        var checkedAhead = counting.Calls;

        var replica = new SignatureChecks(_t.Chain, cache);
        Assert.True(replica.CheckProposalSignature(proposal).IsAccepted);
        Assert.True(replica.CheckQc(proposal.Block.Header.Justify).IsAccepted);
        Assert.True(replica.CheckTc(proposal.LastRoundTc!).IsAccepted);
        Assert.True(replica.CheckVote(vote).IsAccepted);
        Assert.True(replica.CheckTimeout(timeout).IsAccepted);
        Assert.True(replica.CheckTc(timeout.LastRoundTc!).IsAccepted);
        Assert.Equal(checkedAhead, counting.Calls);
    }

    [Fact]
    public void Block_responses_and_requests_are_left_to_the_replica_which_drops_those_it_did_not_ask_for_unchecked()
    {
        var counting = new CountingVerifier();
        var ahead = new SignatureChecks(_t.Chain, new VerifiedSignatureCache(counting));
        var (proposal, _, _) = OneOfEachMessage();
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);

        Assert.True(ahead.CheckSignatures(new BlockResponse(proposal.Block.Id, [proposal.Block, b1])).IsAccepted);
        Assert.True(ahead.CheckSignatures(new BlockRequest(_block, 0, 1)).IsAccepted);
        Assert.Equal(0, counting.Calls);
    }

    [Fact]
    public void A_forged_signature_is_reported_by_the_check_ahead_and_the_replica_finds_the_verdict_cached()
    {
        var counting = new CountingVerifier();
        var cache = new VerifiedSignatureCache(counting);
        var (proposal, _, timeout) = OneOfEachMessage();
        var tc = proposal.LastRoundTc!;
        var forgedTc = tc with { Signatures = [tc.Signatures[0], _t.Keys[2].Sign("something else"u8), tc.Signatures[2]] };
        var forged = proposal with { LastRoundTc = forgedTc };

        Assert.Contains("signature of validator 2 does not verify", new SignatureChecks(_t.Chain, cache).CheckSignatures(forged).Reason, StringComparison.Ordinal);
        Assert.Contains("high QC", new SignatureChecks(_t.Chain, cache).CheckSignatures(timeout with { Round = 1 }).Reason, StringComparison.Ordinal);

        var before = counting.Calls;
        Assert.False(new SignatureChecks(_t.Chain, cache).CheckTc(forgedTc).IsAccepted);
        Assert.Equal(before, counting.Calls);
    }

    /// <summary>A proposal of round 3 entered by a TC, a vote for it, and a timeout of round 4 with a TC.</summary>
    private (Proposal Proposal, Vote Vote, TimeoutVote Timeout) OneOfEachMessage()
    {
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc);
        var b3 = _t.Block(3, b1, _t.QcFor(b1, [1, 2, 3]));
        var proposal = _t.Propose(b3, _t.Tc(2, 1, [0, 2, 3]));
        var timeout = _t.Timeout(2, 4, _t.QcFor(b1, [0, 1, 2])) with { LastRoundTc = _t.Tc(3, 1, [1, 2, 3]) };
        return (proposal, _t.Vote(1, b3.Id, 3), timeout);
    }
}
