using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Simulation;

/// <summary>Deliberately broken voting rules, for positive controls only: the simulator must catch each of them.</summary>
public enum ProtocolMutation
{
    None,

    /// <summary>Vote again in a round already voted or timed out in.</summary>
    SkipLastVotedRoundCheck,

    /// <summary>Accept a proposal entered by TC whose QC is below the TC's highest high-QC round.</summary>
    SkipLockCheck,
}

/// <summary>Each mutation as a decorator of a correct validator's safety rules, which themselves stay unbroken.</summary>
public static class ProtocolMutations
{
    public static Func<SafetyRules, IVotingRules>? Decorator(ProtocolMutation mutation, ChainParameters chain, int self, Ed25519PrivateKey key) =>
        mutation switch
        {
            ProtocolMutation.None => null,
            ProtocolMutation.SkipLastVotedRoundCheck => rules => new ForgetsLastVotedRound(rules, chain, self, key),
            ProtocolMutation.SkipLockCheck => rules => new IgnoresLock(rules, chain, self, key),
            _ => throw new ArgumentOutOfRangeException(nameof(mutation), mutation, "no such mutation"),
        };

    /// <summary>Judges each proposal with rules that forgot which rounds it voted in, and remembers the highest again after.</summary>
    private sealed class ForgetsLastVotedRound(SafetyRules rules, ChainParameters chain, int self, Ed25519PrivateKey key) : IVotingRules
    {
        private SafetyRules _rules = rules;

        public SafetyState State => _rules.State;

        public bool VotesOncePerRound => false;

        public SafetyDecision<Vote> VoteFor(Proposal proposal)
        {
            var round = proposal.Block.Round;
            var before = _rules.State;
            var forgetful = new SafetyRules(chain, self, key,
                before with { LastVotedRound = Math.Min(before.LastVotedRound, round - 1), LastVote = null });
            var decision = forgetful.VoteFor(proposal);
            if (decision.Message is not null)
            {
                _rules = new SafetyRules(chain, self, key, forgetful.State with { LastVotedRound = Math.Max(before.LastVotedRound, round) });
            }

            return decision;
        }

        public SafetyDecision<TimeoutVote> TimeoutFor(long round, QuorumCertificate highQc) => _rules.TimeoutFor(round, highQc);
    }

    /// <summary>Signs what the rules refused only because its QC is below the lock a TC reports.</summary>
    private sealed class IgnoresLock(SafetyRules rules, ChainParameters chain, int self, Ed25519PrivateKey key) : IVotingRules
    {
        private SafetyRules _rules = rules;

        public SafetyState State => _rules.State;

        public bool VotesOncePerRound => true;

        public SafetyDecision<Vote> VoteFor(Proposal proposal)
        {
            var decision = _rules.VoteFor(proposal);
            var block = proposal.Block;
            var qc = block.Header.Justify;
            var state = _rules.State;
            if (decision.Message is not null || proposal.LastRoundTc is not { } tc || tc.Round + 1 != block.Round
                || qc.Round >= tc.MaxHighQcRound || block.Round <= state.LastVotedRound)
            {
                return decision;
            }

            var vote = new Vote(block.Id, block.Round, self, key.Sign(chain.Domain.Vote(block.Id, block.Round)));
            _rules = new SafetyRules(chain, self, key,
                state with { LastVotedRound = block.Round, HighQc = qc.Round > state.HighQc.Round ? qc : state.HighQc, LastVote = vote });
            return new SafetyDecision<Vote>(vote, null, true);
        }

        public SafetyDecision<TimeoutVote> TimeoutFor(long round, QuorumCertificate highQc) => _rules.TimeoutFor(round, highQc);
    }
}
