namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// The voting rules of a replica without a vote in its epoch: a validator that joins in a later epoch follows the
/// chain up to it, and one that was removed follows until it sees its last epoch end. It signs nothing, so it never
/// proposes (no round's leader is outside the set), votes or times out; it commits what the set's certificates prove.
/// </summary>
public sealed class ObserverRules(SafetyState state) : IVotingRules
{
    /// <summary>The validator index a replica is given to observe.</summary>
    public const int Index = -1;

    private const string NoVote = "this node has no vote in this epoch";

    public SafetyState State { get; } = state ?? throw new ArgumentNullException(nameof(state));

    public bool VotesOncePerRound => true;

    public SafetyDecision<Vote> VoteFor(Proposal proposal) => new(null, NoVote, false);

    public SafetyDecision<TimeoutVote> TimeoutFor(long round, QuorumCertificate highQc) => new(null, NoVote, false);
}
