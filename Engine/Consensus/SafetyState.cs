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
    public static SafetyState Initial(ChainParameters chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        return new SafetyState(0, chain.GenesisQc, null, null);
    }
}
