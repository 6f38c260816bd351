namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// The empty-journal guard: a validator that starts without a vote journal (a new one, or one whose data folder was emptied) cannot
/// tell which rounds it voted in before, so before its first vote above round 1 it learns the rounds of 2f other
/// validators from their signed, certified messages and votes and proposes only above the highest of them plus one.
/// </summary>
/// <remarks>
/// Why that is enough: it voted in round v before only when a QC or TC of round v - 1 existed, which 2f + 1 validators
/// had signed; at least f + 1 of them other than it are correct, and a correct validator's round never goes back.
/// Any 2f others it hears from include one of those (2f + f + 1 is more than the 3f others there are), so the highest
/// round heard is at least v - 1; messages count only when they arrive after the start, on connections opened since.
/// Only messages whose certificates place them in their round count (a proposal, a timeout with the QC or TC of the
/// round before): a faulty validator can sign a vote or timeout for any round and would keep this one from voting
/// for good, but it cannot certify a round the correct validators have not reached.
/// Round 1 needs no such wait: a vote there is for the chain's first block, which exists before anything is certified,
/// and voting for it twice only repeats a vote unless its leader equivocated. So a new network starts without delay,
/// and a validator that has voted once has a journal again and no longer needs this. With f = 0 there is nobody to
/// ask, and no fault to tolerate either; the guard stays off.
/// </remarks>
public sealed class EmptyJournalGuard
{
    private readonly int _self;
    private readonly int _needed;
    private readonly Dictionary<int, long> _heard = [];
    private long _abstainThrough = -1;

    public EmptyJournalGuard(ValidatorSet validators, int self)
    {
        ArgumentNullException.ThrowIfNull(validators);
        _self = self;
        _needed = 2 * validators.MaxFaulty;
    }

    /// <summary>Whether a validator with this safety state must use the guard: nothing journaled, and faults to tolerate.</summary>
    public static bool IsNeeded(SafetyState state, ValidatorSet validators)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(validators);
        return state.LastVotedRound == 0 && state.LastVote is null && state.LastTimeout is null && validators.MaxFaulty > 0;
    }

    /// <summary>The highest round above which votes are allowed, once known; -1 while other validators are still unheard.</summary>
    public long AbstainsThrough => _abstainThrough;

    /// <summary>A message signed by <paramref name="validator"/> for <paramref name="round"/>, its signature and certificates checked.</summary>
    public void Heard(int validator, long round)
    {
        if (validator == _self || _abstainThrough >= 0)
        {
            return;
        }

        _heard[validator] = Math.Max(round, _heard.GetValueOrDefault(validator));
        if (_heard.Count >= _needed)
        {
            _abstainThrough = _heard.Values.Max() + 1;
        }
    }

    public bool MayVoteIn(long round) => round <= 1 || (_abstainThrough >= 0 && round > _abstainThrough);
}
