namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// What a validator must remember across a crash so that it never signs two conflicting messages for one round.
/// It is persisted before any vote or timeout it covers leaves the node.
/// </summary>
/// <param name="LastVotedRound">No vote for this round or below; raised by votes and by timeouts.</param>
/// <param name="HighQc">The highest QC this validator has acted on (its lock): timeouts never report less.</param>
/// <param name="LastVote">Re-sent, never re-signed, when asked to vote again in its round.</param>
/// <param name="LastTimeout">Re-sent, never re-signed, when the same round times out again.</param>
public sealed record SafetyState(long LastVotedRound, QuorumCertificate HighQc, Vote? LastVote, TimeoutVote? LastTimeout)
{
    /// <summary>
    /// The epoch whose messages this covers. Each epoch's signatures name it, so a validator starts an epoch with
    /// nothing signed in it, locked on the committed block the epoch opens on (<see cref="OpeningEpoch"/>).
    /// </summary>
    public long Epoch { get; init; }

    public static SafetyState Initial(ChainParameters chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        return new SafetyState(0, chain.GenesisQc, null, null);
    }

    /// <summary>
    /// The state a validator enters a later epoch with: its lock the QC of the block the epoch opens on, nothing signed
    /// in the epoch, and no round at or below the last it voted or timed out in before, so that no validator ever
    /// signs twice in one round, whatever the epoch.
    /// </summary>
    public static SafetyState OpeningEpoch(long epoch, QuorumCertificate lastBlockQc, long lastVotedRound) =>
        new(lastVotedRound, lastBlockQc, null, null) { Epoch = epoch };
}
