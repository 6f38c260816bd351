using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// How an epoch's end travels between validators: the replica that commits the last block keeps the proof, a replica
/// of the next epoch announces it until that epoch commits, and one that missed the end (its peers' certificates of a
/// later epoch do not check out under its set) asks for it and commits the last block from it.
/// </summary>
internal sealed class EpochClosing(long epoch, SignatureChecks checks, BlockTree tree, ICommittedBlockStore store, EpochBoundary boundary,
    EpochProof? openingProof, Func<Hash32, bool> isCommitted, RoundState state, IRoundSteps steps, Func<bool> hasEnded)
{
    // A valid proof that came before execution said where the epoch ends, or before the last block was here: judged
    // again once it is.
    private (EpochProof Proof, PeerId From)? _early;

    /// <summary>
    /// On start and on timeouts: until this epoch commits a block, validators of the last one that missed its end are
    /// told how it ended; and a replica that starts, or times out again and again, asks how its own epoch ended,
    /// since its peers may have moved on to a later one.
    /// </summary>
    public void Announce(bool asking)
    {
        if (openingProof is { } proof && store.Height < boundary.StartHeight)
        {
            state.Effects.Add(new Broadcast(new EpochEnd(proof)));
        }

        if (asking)
        {
            state.Effects.Add(new Broadcast(new EpochEndRequest(epoch)));
        }
    }

    /// <summary>A peer asks how an epoch ended: answered if this validator opened on it or kept its proof.</summary>
    public void Answer(EpochEndRequest request, PeerId from)
    {
        if ((request.Epoch == epoch - 1 ? openingProof : store.EpochProofOf(request.Epoch)) is { } known)
        {
            state.Effects.Add(new Reply(from, new EpochEnd(known)));
        }
    }

    /// <summary>
    /// The last block committed here: the empty blocks and QC above it prove it to validators that missed it, unless
    /// it took more than a proof holds.
    /// </summary>
    public void Ended(Block last, List<Block> suffix, QuorumCertificate qc)
    {
        var proof = suffix.Count <= EpochProof.MaxSuffix ? new EpochProof(suffix, qc) : null;
        if (proof is not null)
        {
            store.KeepEpochProof(epoch, proof);
        }

        state.Effects.Add(new EpochEnded(epoch, last, proof));
    }

    /// <summary>Execution has told where the epoch ends, or fetched blocks arrived: a proof that came before is judged now.</summary>
    public void RetryEarly()
    {
        if (_early is { } early)
        {
            _early = null;
            Catch(early.Proof, early.From);
        }
    }

    /// <summary>
    /// A proof of this epoch's end arrived (in an <see cref="EpochEnd"/> or a proposal of the next epoch) before this
    /// validator saw the end itself: it commits the last block here if it holds under this epoch's set, and the host
    /// moves on. Until execution has told where the epoch ends and the last block is here, the proof's certificates
    /// only bring the validator up to that block, and the proof waits (<see cref="RetryEarly"/>).
    /// </summary>
    public void Catch(EpochProof proof, PeerId from)
    {
        if (proof.Suffix.Count > 0 && proof.Suffix[0].Header.Epoch < epoch)
        {
            // An earlier epoch's end, still announced by a validator that has not seen this epoch commit.
            return;
        }

        if (proof.ShapeProblem(epoch) is { } problem)
        {
            state.Reject(from, problem);
            return;
        }

        if (boundary.LastHeight is { } last && (last != proof.LastHeight || boundary.NextSetHash != proof.NextSetHash))
        {
            state.Reject(from, $"epoch proof ends epoch {epoch} at height {proof.LastHeight} before set {proof.NextSetHash.ToShortString()}; " +
                $"it ends at {last} before set {boundary.NextSetHash.ToShortString()}");
            return;
        }

        foreach (var certificate in proof.Suffix.Select(b => b.Header.Justify).Append(proof.Certificate))
        {
            var verdict = checks.CheckQc(certificate);
            if (!verdict.IsAccepted)
            {
                state.Reject(from, $"epoch proof: {verdict.Reason}");
                return;
            }
        }

        // The last block's QC is this epoch's like any other: it brings a validator that fell behind up to that block
        // (by height if far), and then execution tells it where the epoch ends.
        steps.AdvanceWith(proof.Suffix[0].Header.Justify, from);
        if (boundary.LastHeight is null || !tree.Contains(proof.LastBlockId))
        {
            _early = (proof, from);
            return;
        }

        foreach (var block in proof.Suffix)
        {
            tree.TryInsert(block, isCommitted);
        }

        if (!hasEnded())
        {
            steps.AdvanceWith(proof.Certificate, from);
        }
    }
}
