using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>Two different messages signed by one key for one round: kept, counted and never acted on.</summary>
public sealed record Equivocation(int Validator, long Round, string Kind, ConsensusMessage First, ConsensusMessage Second)
{
    public override string ToString() => $"equivocation by validator {Validator} in round {Round}: {Kind}";
}

/// <summary>
/// Collects verified votes (the caller checked signatures) for the rounds this validator leads next, and forms a
/// QC from exactly a quorum of distinct signers. A second, different vote by one validator in one round is evidence.
/// </summary>
public sealed class VoteAggregator(ValidatorSet validators)
{
    private readonly Dictionary<long, Dictionary<int, Vote>> _firstVoteByRound = [];
    private readonly Dictionary<(long Round, Hash32 BlockId), SortedDictionary<int, byte[]>> _signatures = [];
    private readonly HashSet<(long Round, Hash32 BlockId)> _formed = [];

    public (QuorumCertificate? Qc, Equivocation? Evidence) Add(Vote vote)
    {
        ArgumentNullException.ThrowIfNull(vote);
        if (!_firstVoteByRound.TryGetValue(vote.Round, out var firstVotes))
        {
            firstVotes = [];
            _firstVoteByRound[vote.Round] = firstVotes;
        }

        if (firstVotes.TryGetValue(vote.Voter, out var first))
        {
            return first.BlockId == vote.BlockId
                ? (null, null)
                : (null, new Equivocation(vote.Voter, vote.Round, "two votes", first, vote));
        }

        firstVotes[vote.Voter] = vote;
        var key = (vote.Round, vote.BlockId);
        if (!_signatures.TryGetValue(key, out var signatures))
        {
            signatures = [];
            _signatures[key] = signatures;
        }

        signatures[vote.Voter] = vote.Signature;
        if (signatures.Count < validators.Quorum || !_formed.Add(key))
        {
            return (null, null);
        }

        var qc = new QuorumCertificate(vote.BlockId, vote.Round, SignerBitmap.Create(validators.Count, signatures.Keys), [.. signatures.Values]);
        return (qc, null);
    }

    public void ForgetBelow(long round)
    {
        foreach (var stale in _firstVoteByRound.Keys.Where(r => r < round).ToList())
        {
            _firstVoteByRound.Remove(stale);
        }

        foreach (var stale in _signatures.Keys.Where(k => k.Round < round).ToList())
        {
            _signatures.Remove(stale);
            _formed.Remove(stale);
        }
    }
}
