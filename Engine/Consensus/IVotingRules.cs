namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// What a replica signs votes and timeouts through: <see cref="SafetyRules"/>, or, in a simulator's positive control
/// only, a deliberately broken decorator of them (<see cref="ReplicaOptions.DecorateSafetyRules"/>).
/// </summary>
public interface IVotingRules
{
    SafetyState State { get; }

    /// <summary>
    /// Whether these rules refuse a second vote in a round. The replica drops a proposer's second proposal of a round
    /// as a second guard of that rule; rules without it must be shown that proposal, or their positive control would
    /// test the guard instead of the checker.
    /// </summary>
    bool VotesOncePerRound { get; }

    SafetyDecision<Vote> VoteFor(Proposal proposal);

    SafetyDecision<TimeoutVote> TimeoutFor(long round, QuorumCertificate highQc);
}
