using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// Verifies every signed thing a peer can send against the validator set of the epoch in <paramref name="chain"/>.
/// Each check returns a verdict and never throws on peer input: a forged or malformed certificate is an expected
/// event, not an error.
/// </summary>
public sealed class SignatureChecks(ChainParameters chain, ISignatureVerifier verifier)
{
    /// <summary>
    /// One QC arrives many times (in a proposal, in every peer's timeout, in sync responses); remembering the
    /// encodings that verified saves q signature checks each time. Bounded: the oldest rounds are forgotten first.
    /// </summary>
    private const int VerifiedQcCapacity = 256;

    /// <summary>How many of this validator's latest votes and timeouts are remembered for <see cref="IsOwn"/>.</summary>
    private const int OwnSignatureCapacity = 8;

    private readonly Dictionary<Hash32, long> _verifiedQcs = [];
    private readonly Queue<(int Signer, byte[] Message, byte[] Signature)> _ownSignatures = new();

    private (Hash32 BlockId, long Round, SignatureChecks Checks)? _predecessor;

    private ValidatorSet Validators => chain.Validators;

    /// <summary>
    /// The QC of the block an epoch opens on was signed by the epoch before, under its domain: a QC for exactly that
    /// block and round is checked with <paramref name="previous"/>, every other with this epoch's set.
    /// </summary>
    public void OpenOn(QuorumCertificate lastBlockQc, SignatureChecks previous)
    {
        ArgumentNullException.ThrowIfNull(lastBlockQc);
        ArgumentNullException.ThrowIfNull(previous);
        _predecessor = (lastBlockQc.BlockId, lastBlockQc.Round, previous);
    }

    public Verdict CheckQc(QuorumCertificate qc)
    {
        ArgumentNullException.ThrowIfNull(qc);
        if (qc.Round == 0)
        {
            return qc.BlockId == chain.GenesisBlock.Id && qc.Signatures.Count == 0 && qc.Signers.Length == Validators.BitmapLength
                && SignerBitmap.Signers(qc.Signers).Count == 0
                ? Verdict.Accept
                : Verdict.Reject("a round-0 QC must be the genesis QC");
        }

        if (_predecessor is { } opening && qc.BlockId == opening.BlockId && qc.Round == opening.Round)
        {
            return opening.Checks.CheckQc(qc);
        }

        var digest = Hash32.Compute(ConsensusCodec.EncodeQc(qc));
        if (_verifiedQcs.ContainsKey(digest))
        {
            return Verdict.Accept;
        }

        var structure = CheckSigners(qc.Signers, qc.Signatures.Count, "QC");
        if (structure is not null)
        {
            return Verdict.Reject(structure);
        }

        var message = chain.Domain.Vote(qc.BlockId, qc.Round);
        var signers = SignerBitmap.Signers(qc.Signers);
        for (var i = 0; i < signers.Count; i++)
        {
            if (!IsOwn(signers[i], message, qc.Signatures[i]) && !verifier.Verify(Validators[signers[i]], message, qc.Signatures[i]))
            {
                return Verdict.Reject($"QC for round {qc.Round}: signature of validator {signers[i]} does not verify");
            }
        }

        RememberVerified(digest, qc.Round);
        return Verdict.Accept;
    }

    private void RememberVerified(Hash32 digest, long round)
    {
        if (_verifiedQcs.Count >= VerifiedQcCapacity)
        {
            foreach (var (oldest, _) in _verifiedQcs.OrderBy(e => e.Value).ThenBy(e => e.Key).Take(VerifiedQcCapacity / 2).ToList())
            {
                _verifiedQcs.Remove(oldest);
            }
        }

        _verifiedQcs[digest] = round;
    }

    public Verdict CheckTc(TimeoutCertificate tc)
    {
        ArgumentNullException.ThrowIfNull(tc);
        if (tc.Round < 1)
        {
            return Verdict.Reject("a TC is for a round of at least 1");
        }

        var structure = CheckSigners(tc.Signers, tc.Signatures.Count, "TC");
        if (structure is not null)
        {
            return Verdict.Reject(structure);
        }

        if (tc.HighQcRounds.Count != tc.Signatures.Count)
        {
            return Verdict.Reject($"TC lists {tc.HighQcRounds.Count} high-QC rounds for {tc.Signatures.Count} signatures");
        }

        var signers = SignerBitmap.Signers(tc.Signers);
        for (var i = 0; i < signers.Count; i++)
        {
            if (tc.HighQcRounds[i] >= tc.Round)
            {
                return Verdict.Reject($"TC for round {tc.Round}: validator {signers[i]} reports a high QC of round {tc.HighQcRounds[i]}");
            }

            var message = chain.Domain.Timeout(tc.Round, tc.HighQcRounds[i]);
            if (!IsOwn(signers[i], message, tc.Signatures[i]) && !verifier.Verify(Validators[signers[i]], message, tc.Signatures[i]))
            {
                return Verdict.Reject($"TC for round {tc.Round}: signature of validator {signers[i]} does not verify");
            }
        }

        return Verdict.Accept;
    }

    /// <summary>
    /// Remembers a vote this validator signed. Ed25519 signatures are deterministic, so a signature in a vote or QC
    /// that is byte for byte the one this validator made for the same block and round is valid without a check: a
    /// leader's own vote and this validator's share of nearly every QC it receives then cost a comparison.
    /// </summary>
    public void OwnVote(Vote vote)
    {
        ArgumentNullException.ThrowIfNull(vote);
        RememberOwn(vote.Voter, chain.Domain.Vote(vote.BlockId, vote.Round), vote.Signature);
    }

    /// <summary>As <see cref="OwnVote"/>, for this validator's share of a TC.</summary>
    public void OwnTimeout(TimeoutVote timeout)
    {
        ArgumentNullException.ThrowIfNull(timeout);
        RememberOwn(timeout.Voter, chain.Domain.Timeout(timeout.Round, timeout.HighQc.Round), timeout.Signature);
    }

    private void RememberOwn(int signer, byte[] message, byte[] signature)
    {
        _ownSignatures.Enqueue((signer, message, signature));
        if (_ownSignatures.Count > OwnSignatureCapacity)
        {
            _ownSignatures.Dequeue();
        }
    }

    public Verdict CheckVote(Vote vote)
    {
        ArgumentNullException.ThrowIfNull(vote);
        if (!Validators.IsValidIndex(vote.Voter))
        {
            return Verdict.Reject($"vote from validator {vote.Voter}, but the set has {Validators.Count}");
        }

        if (vote.Round < 1)
        {
            return Verdict.Reject("a vote is for a round of at least 1");
        }

        var message = chain.Domain.Vote(vote.BlockId, vote.Round);
        return IsOwn(vote.Voter, message, vote.Signature) || verifier.Verify(Validators[vote.Voter], message, vote.Signature)
            ? Verdict.Accept
            : Verdict.Reject($"vote of validator {vote.Voter} for round {vote.Round}: signature does not verify");
    }

    public Verdict CheckTimeout(TimeoutVote timeout)
    {
        ArgumentNullException.ThrowIfNull(timeout);
        if (!Validators.IsValidIndex(timeout.Voter))
        {
            return Verdict.Reject($"timeout from validator {timeout.Voter}, but the set has {Validators.Count}");
        }

        if (timeout.Round < 1 || timeout.HighQc.Round >= timeout.Round)
        {
            return Verdict.Reject($"timeout for round {timeout.Round} carries a high QC of round {timeout.HighQc.Round}");
        }

        if (!verifier.Verify(Validators[timeout.Voter], chain.Domain.Timeout(timeout.Round, timeout.HighQc.Round), timeout.Signature))
        {
            return Verdict.Reject($"timeout of validator {timeout.Voter} for round {timeout.Round}: signature does not verify");
        }

        var qc = CheckQc(timeout.HighQc);
        return qc.IsAccepted ? qc : Verdict.Reject($"timeout of validator {timeout.Voter}: {qc.Reason}");
    }

    /// <summary>
    /// The signature of the validator the header names. Whether that validator leads the round is the replica's call:
    /// it depends on the committed chain, which this check does not see.
    /// </summary>
    public Verdict CheckProposalSignature(Proposal proposal)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        var header = proposal.Block.Header;
        if (!Validators.IsValidIndex(header.Proposer))
        {
            return Verdict.Reject($"proposal from validator {header.Proposer}, but the set has {Validators.Count}");
        }

        return verifier.Verify(Validators[header.Proposer], chain.Domain.Proposal(proposal.Block.Id), proposal.Signature)
            ? Verdict.Accept
            : Verdict.Reject($"proposal for round {header.Round}: leader signature does not verify");
    }

    /// <summary>
    /// Every signature in a message that <see cref="Replica"/> may check, in one call: a peer's inbound verifier runs
    /// this ahead of the replica, off its thread, so that through a shared <see cref="VerifiedSignatureCache"/> the
    /// replica finds the verdicts ready. Rounds, shapes and ancestry are the replica's business and are not looked at.
    /// Block responses are left alone: the replica drops those it did not ask for unchecked, and checking up to 64
    /// blocks' QCs first would hand a peer a cheap way to spend this validator's CPU.
    /// </summary>
    public Verdict CheckSignatures(ConsensusMessage message) => message switch
    {
        Proposal proposal => All(
            CheckProposalSignature(proposal),
            () => CheckQc(proposal.Block.Header.Justify),
            () => proposal.LastRoundTc is { } tc ? CheckTc(tc) : Verdict.Accept),
        Vote vote => CheckVote(vote),
        TimeoutVote timeout => All(CheckTimeout(timeout), () => timeout.LastRoundTc is { } tc ? CheckTc(tc) : Verdict.Accept),
        RoundSync sync => All(CheckQc(sync.HighQc), () => sync.LastRoundTc is { } tc ? CheckTc(tc) : Verdict.Accept),
        _ => Verdict.Accept,
    };

    private static Verdict All(Verdict first, params Func<Verdict>[] rest)
    {
        var verdict = first;
        for (var i = 0; i < rest.Length && verdict.IsAccepted; i++)
        {
            verdict = rest[i]();
        }

        return verdict;
    }

    private string? CheckSigners(byte[] bitmap, int signatureCount, string what)
    {
        var bitmapProblem = SignerBitmap.Check(bitmap, Validators.Count);
        if (bitmapProblem is not null)
        {
            return $"{what}: {bitmapProblem}";
        }

        var signers = SignerBitmap.Signers(bitmap).Count;
        if (signers < Validators.Quorum)
        {
            return $"{what} has {signers} signers; a quorum is {Validators.Quorum}";
        }

        return signatureCount == signers ? null : $"{what} lists {signatureCount} signatures for {signers} signers";
    }

    private bool IsOwn(int signer, byte[] message, byte[] signature)
    {
        foreach (var own in _ownSignatures)
        {
            if (own.Signer == signer && own.Message.AsSpan().SequenceEqual(message) && own.Signature.AsSpan().SequenceEqual(signature))
            {
                return true;
            }
        }

        return false;
    }
}
