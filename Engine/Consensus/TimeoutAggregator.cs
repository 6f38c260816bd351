namespace IdOS.Akka.Engine.Consensus;

/// <summary>What adding one verified timeout changed.</summary>
/// <param name="Certificate">Formed when the round's timeouts first reach a quorum.</param>
/// <param name="ReachedOneHonest">True once, when f + 1 validators have timed out in the round: at least one correct
/// validator has given up on it, so waiting out a longer timer would only slow the resynchronisation.</param>
/// <param name="Evidence">Set when the validator had already sent a different timeout for the round.</param>
public readonly record struct TimeoutAddResult(TimeoutCertificate? Certificate, bool ReachedOneHonest, Equivocation? Evidence);

/// <summary>Collects verified timeouts per round and forms a TC from exactly a quorum of distinct signers.</summary>
public sealed class TimeoutAggregator(ValidatorSet validators)
{
    private readonly Dictionary<long, SortedDictionary<int, TimeoutVote>> _byRound = [];
    private readonly HashSet<long> _formed = [];

    public TimeoutAddResult Add(TimeoutVote timeout)
    {
        ArgumentNullException.ThrowIfNull(timeout);
        if (!_byRound.TryGetValue(timeout.Round, out var timeouts))
        {
            timeouts = [];
            _byRound[timeout.Round] = timeouts;
        }

        if (timeouts.TryGetValue(timeout.Voter, out var first))
        {
            return first.HighQc.Round == timeout.HighQc.Round && first.HighQc.BlockId == timeout.HighQc.BlockId
                ? default
                : new TimeoutAddResult(null, false, new Equivocation(timeout.Voter, timeout.Round, "two timeouts", first, timeout));
        }

        timeouts[timeout.Voter] = timeout;
        var reachedOneHonest = timeouts.Count == validators.OneHonest;
        if (timeouts.Count < validators.Quorum || !_formed.Add(timeout.Round))
        {
            return new TimeoutAddResult(null, reachedOneHonest, null);
        }

        var tc = new TimeoutCertificate(
            timeout.Round,
            SignerBitmap.Create(validators.Count, timeouts.Keys),
            [.. timeouts.Values.Select(t => t.HighQc.Round)],
            [.. timeouts.Values.Select(t => t.Signature)]);
        return new TimeoutAddResult(tc, reachedOneHonest, null);
    }

    public void ForgetBelow(long round)
    {
        foreach (var stale in _byRound.Keys.Where(r => r < round).ToList())
        {
            _byRound.Remove(stale);
            _formed.Remove(stale);
        }
    }
}
