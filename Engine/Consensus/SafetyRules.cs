using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>A signed message the safety rules allow, and whether the safety state changed (and so must be persisted first).</summary>
public readonly record struct SafetyDecision<T>(T? Message, string? Refusal, bool StateChanged)
    where T : class;

/// <summary>
/// The only component that signs votes and timeouts. It enforces the voting rule (vote in round r only above the last
/// voted round, and only when the QC is from r − 1 or a TC for r − 1 justifies it) and the timeout rule, and moves <see cref="State"/> forward; the caller persists the new state before the message leaves.
/// Callers pass proposals whose signatures, QC and TC were already verified.
/// </summary>
public sealed class SafetyRules : IVotingRules
{
    private readonly ChainParameters _chain;
    private readonly int _self;
    private readonly Ed25519PrivateKey _key;

    public SafetyRules(ChainParameters chain, int self, Ed25519PrivateKey key, SafetyState state)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(state);
        if (!chain.Validators.IsValidIndex(self) || !chain.Validators[self].Equals(key.PublicKey))
        {
            throw new ArgumentException($"The signing key is not validator {self}'s key in this validator set.", nameof(key));
        }

        _chain = chain;
        _self = self;
        _key = key;
        State = state;
    }

    public SafetyState State { get; private set; }

    public bool VotesOncePerRound => true;

    public SafetyDecision<Vote> VoteFor(Proposal proposal)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        var block = proposal.Block;
        var round = block.Round;
        if (State.LastVote is { } last && last.Round == round)
        {
            return last.BlockId == block.Id
                ? new SafetyDecision<Vote>(last, null, false)
                : Refuse<Vote>($"already voted for block {last.BlockId.ToShortString()} in round {round}");
        }

        if (round <= State.LastVotedRound)
        {
            return Refuse<Vote>($"round {round} is not above the last voted round {State.LastVotedRound}");
        }

        var qc = block.Header.Justify;
        var tc = proposal.LastRoundTc;
        var extendsPreviousRound = qc.Round + 1 == round;
        var extendsTimedOutRound = tc is not null && tc.Round + 1 == round && qc.Round >= tc.MaxHighQcRound;
        if (!extendsPreviousRound && !extendsTimedOutRound)
        {
            return Refuse<Vote>(tc is null
                ? $"proposal for round {round} extends QC of round {qc.Round} without a TC"
                : $"proposal for round {round} extends QC of round {qc.Round}, below the TC's highest QC round {tc.MaxHighQcRound}");
        }

        var vote = new Vote(block.Id, round, _self, _key.Sign(_chain.Domain.Vote(block.Id, round)));
        State = State with
        {
            LastVotedRound = Math.Max(State.LastVotedRound, round),
            HighQc = Higher(State.HighQc, qc),
            LastVote = vote,
        };
        return new SafetyDecision<Vote>(vote, null, true);
    }

    public SafetyDecision<TimeoutVote> TimeoutFor(long round, QuorumCertificate highQc)
    {
        ArgumentNullException.ThrowIfNull(highQc);
        if (State.LastTimeout is { } last && last.Round == round)
        {
            return new SafetyDecision<TimeoutVote>(last, null, false);
        }

        if (round < State.LastVotedRound)
        {
            return Refuse<TimeoutVote>($"round {round} is below the last voted round {State.LastVotedRound}");
        }

        // Report at least the lock: a timeout that hid a QC this validator voted on could let a TC skip a committed block.
        var reported = Higher(State.HighQc, highQc);
        if (reported.Round >= round)
        {
            return Refuse<TimeoutVote>($"cannot time out in round {round} holding a QC of round {reported.Round}");
        }

        var timeout = new TimeoutVote(round, reported, _self, _key.Sign(_chain.Domain.Timeout(round, reported.Round)));
        State = State with { LastVotedRound = Math.Max(State.LastVotedRound, round), HighQc = reported, LastTimeout = timeout };
        return new SafetyDecision<TimeoutVote>(timeout, null, true);
    }

    private static SafetyDecision<T> Refuse<T>(string reason)
        where T : class => new(null, reason, false);

    private static QuorumCertificate Higher(QuorumCertificate a, QuorumCertificate b) => b.Round > a.Round ? b : a;
}
