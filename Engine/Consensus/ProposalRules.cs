namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// Checks on a proposal that need neither signatures nor the parent block: the cheap ones, run first so that junk
/// costs no signature verification.
/// </summary>
public static class ProposalRules
{
    public static Verdict CheckShape(Proposal proposal, ConsensusLimits limits)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        ArgumentNullException.ThrowIfNull(limits);
        var block = proposal.Block;
        var header = block.Header;
        if (header.Round < 1 || header.Height < 1)
        {
            return Verdict.Reject($"proposal with round {header.Round} and height {header.Height}; both start at 1");
        }

        if (!block.BodyMatchesHeader())
        {
            return Verdict.Reject($"proposal for round {header.Round}: transactions do not match the header's count and Merkle root");
        }

        if (block.Transactions.Count > limits.MaxTransactionsPerBlock || block.EncodedSize > limits.MaxBlockBytes)
        {
            return Verdict.Reject($"proposal for round {header.Round}: block of {block.Transactions.Count} transactions and {block.EncodedSize} bytes is over the limits");
        }

        if (header.Justify.Round >= header.Round)
        {
            return Verdict.Reject($"proposal for round {header.Round} carries a QC of round {header.Justify.Round}");
        }

        var tc = proposal.LastRoundTc;
        if (tc is not null && tc.Round != header.Round - 1)
        {
            return Verdict.Reject($"proposal for round {header.Round} carries a TC for round {tc.Round}");
        }

        if (header.Justify.Round != header.Round - 1 && tc is null)
        {
            return Verdict.Reject($"proposal for round {header.Round} extends a QC of round {header.Justify.Round} without a TC for round {header.Round - 1}");
        }

        return Verdict.Accept;
    }

    /// <summary>A new block names the epoch it belongs to and that epoch's set, so that its certificate is checked against the right validators.</summary>
    public static Verdict CheckEpoch(Block block, ChainParameters chain)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(chain);
        var header = block.Header;
        return header.Epoch == chain.Epoch && header.SetHash == chain.Validators.Hash
            ? Verdict.Accept
            : Verdict.Reject($"proposal for round {block.Round} names epoch {header.Epoch} and set {header.SetHash.ToShortString()}; " +
                $"this is epoch {chain.Epoch} with set {chain.Validators.Hash.ToShortString()}");
    }

    /// <summary>
    /// Separate from the shape: a block from the future is not voted for, but its certificates are still valid, so a
    /// validator whose own clock is behind keeps following the chain instead of stalling.
    /// </summary>
    public static Verdict CheckTimestamp(Block block, ConsensusLimits limits, long now)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(limits);
        return block.Header.Timestamp > now + limits.MaxClockDriftMs
            ? Verdict.Reject($"proposal for round {block.Round}: timestamp {block.Header.Timestamp} is more than {limits.MaxClockDriftMs} ms ahead of local time {now}")
            : Verdict.Accept;
    }
}
