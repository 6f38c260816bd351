using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>Everything one replica sends another. Peers are untrusted: every field is checked before use.</summary>
public abstract record ConsensusMessage;

/// <summary>A leader's block for its round, signed over the block id, with the TC it entered the round by if any.</summary>
public sealed record Proposal(Block Block, byte[] Signature, TimeoutCertificate? LastRoundTc) : ConsensusMessage
{
    public long Round => Block.Header.Round;

    /// <summary>
    /// On a proposal that opens an epoch (its parent is the last block of the one before): how that block committed,
    /// for a validator of the old set that has not seen it commit yet.
    /// </summary>
    public EpochProof? OpeningProof { get; init; }
}

/// <summary>
/// How an epoch's last block committed under its own set: the empty blocks that followed it in the old epoch, each
/// the parent of the next, and the QC of the last, which makes a two-chain with the block before it.
/// </summary>
public sealed record EpochProof(IReadOnlyList<Block> Suffix, QuorumCertificate Certificate)
{
    /// <summary>Rounds that time out between the last block and its commit add suffix blocks; more than this is no proof a peer need send.</summary>
    public const int MaxSuffix = 32;

    /// <summary>The last block of the epoch it closes.</summary>
    public Hash32 LastBlockId => Suffix[0].ParentId;

    public long LastHeight => Suffix[0].Height - 1;

    /// <summary>The hash of the next epoch's set, which every block of the suffix names and the old set certified.</summary>
    public Hash32 NextSetHash => Suffix[0].Header.NextSetHash;

    /// <summary>Null when the blocks and certificates fit together as such a proof; their signatures are checked apart.</summary>
    public string? ShapeProblem(long epoch)
    {
        if (Suffix.Count is 0 or > MaxSuffix)
        {
            return $"an epoch proof holds 1 to {MaxSuffix} blocks, not {Suffix.Count}";
        }

        for (var i = 0; i < Suffix.Count; i++)
        {
            var block = Suffix[i];
            if (block.Header.Epoch != epoch || block.Header.TxCount != 0 || block.Transactions.Count != 0)
            {
                return $"block {i} of an epoch proof is not an empty block of epoch {epoch}";
            }

            if (block.Header.NextSetHash == Hash32.Zero || block.Header.NextSetHash != Suffix[0].Header.NextSetHash)
            {
                return $"block {i} of an epoch proof does not name the next epoch's set as the first does";
            }

            if (i > 0 && (block.ParentId != Suffix[i - 1].Id || block.Height != Suffix[i - 1].Height + 1))
            {
                return $"block {i} of an epoch proof does not extend the one before it";
            }
        }

        var top = Suffix[^1];
        var belowRound = Suffix.Count > 1 ? Suffix[^2].Round : Suffix[0].Header.Justify.Round;
        return Certificate.BlockId != top.Id || Certificate.Round != top.Round || top.Round != belowRound + 1
            ? "an epoch proof's certificate does not make a two-chain over its blocks"
            : null;
    }
}

/// <summary>A validator's vote for a block; sent to the leader of the next round.</summary>
public sealed record Vote(Hash32 BlockId, long Round, int Voter, byte[] Signature) : ConsensusMessage;

/// <summary>
/// A validator gives up on a round; it carries its highest QC so that the next leader cannot ignore it, and the TC it
/// entered the round by, if any, so that a validator that missed that TC's timeouts can follow. Without the TC, a
/// bare quorum split across two rounds waits forever: those behind re-send timeouts for a round the one ahead has
/// left, and the one ahead times out alone. The TC is not signed over; it certifies itself.
/// </summary>
public sealed record TimeoutVote(long Round, QuorumCertificate HighQc, int Voter, byte[] Signature) : ConsensusMessage
{
    public TimeoutCertificate? LastRoundTc { get; init; }
}

/// <summary>
/// The highest certificates of a validator ahead, sent back to a peer whose timeout or proposal shows it in an earlier
/// round. Without it a validator that missed a QC (it went to some validators only) waits in the old round for a TC
/// that cannot form, until the one ahead gives up its own round. The certificates certify themselves; the sender's
/// word adds nothing.
/// </summary>
public sealed record RoundSync(QuorumCertificate HighQc, TimeoutCertificate? LastRoundTc) : ConsensusMessage;

/// <summary>
/// How an epoch ended, sent by a validator of the next one until that epoch commits a block: validators of the old
/// set that missed the commit of its last block cannot join the new epoch, nor can it form a quorum without them.
/// </summary>
public sealed record EpochEnd(EpochProof Proof) : ConsensusMessage;

/// <summary>
/// A validator whose rounds time out again and again asks how its epoch ended: its peers may all have moved on to a
/// later epoch, whose messages it cannot check.
/// </summary>
public sealed record EpochEndRequest(long Epoch) : ConsensusMessage;

/// <summary>Ask a peer for a block and up to <see cref="MaxBlocks"/> of its ancestors above a committed height.</summary>
public sealed record BlockRequest(Hash32 BlockId, long KnownCommittedHeight, int MaxBlocks) : ConsensusMessage;

/// <summary>The requested block first, then its ancestors, each the parent of the one before.</summary>
public sealed record BlockResponse(Hash32 RequestedId, IReadOnlyList<Block> Blocks) : ConsensusMessage;

/// <summary>
/// Ask a peer for committed blocks in height order from <see cref="FromHeight"/>, up to <see cref="MaxBlocks"/>: how a
/// validator far behind catches up, a range at a time from several peers, instead of walking back from the newest block.
/// </summary>
public sealed record BlockRangeRequest(long FromHeight, int MaxBlocks) : ConsensusMessage;

/// <summary>
/// Committed blocks from <see cref="BlockRangeRequest.FromHeight"/> up, each the child of the one before; none when
/// the peer has not committed that height or has pruned its body (<see cref="PrunedHeight"/>: the height up to which
/// it holds headers only).
/// </summary>
public sealed record BlockRangeResponse(long FromHeight, long PrunedHeight, IReadOnlyList<Block> Blocks) : ConsensusMessage;

/// <summary>
/// Ask a peer for the headers of committed blocks from <see cref="FromHeight"/>, with their transactions' hashes (a
/// block as pruning leaves it), up to <see cref="MaxHeaders"/>: how a node that starts from a state snapshot checks the
/// chain from genesis to the snapshot without fetching a body. <see cref="Epoch"/> is the epoch the asker has reached:
/// when the height asked is in a later one, it needs the transition into it first.
/// </summary>
public sealed record HeaderRangeRequest(long FromHeight, int MaxHeaders, long Epoch = 0) : ConsensusMessage
{
    public const int Limit = 1_024;
}

/// <summary>
/// Headers of consecutive committed heights from the one asked; none past the peer's committed height. They end at
/// the last block of an epoch, with the <see cref="Transition"/> into the next when the peer has it, so that the
/// headers after it can be checked against the next set.
/// </summary>
public sealed record HeaderRangeResponse(long FromHeight, IReadOnlyList<PrunedBlock> Headers) : ConsensusMessage
{
    public EpochTransition? Transition { get; init; }
}

/// <summary>
/// How the chain passes from one validator set to the next, for a node that follows it by headers: the proof that
/// the old epoch's last block committed under the old set, whose blocks name the next set's hash, and that set.
/// </summary>
public sealed record EpochTransition(EpochProof Proof, ValidatorSet NextSet);
