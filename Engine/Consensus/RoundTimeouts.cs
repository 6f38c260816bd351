namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// A replica's timeouts and round synchronisation: timeouts received (their certificates processed whoever sent them,
/// f + 1 of them make this validator join, q form a TC), its own timeout, and round syncs that bring it up to others.
/// </summary>
internal sealed class RoundTimeouts(SignatureChecks checks, TimeoutAggregator timeouts, IVotingRules safety, ReplicaOptions options,
    RoundState state, IRoundSteps steps)
{
    private readonly SignatureChecks _checks = checks;
    private readonly TimeoutAggregator _timeouts = timeouts;
    private readonly IVotingRules _safety = safety;
    private readonly ReplicaOptions _options = options;
    private readonly RoundState _state = state;
    private readonly IRoundSteps _steps = steps;

    public void OnTimeout(PeerId from, TimeoutVote timeout)
    {
        if (timeout.Round < _state.CurrentRound)
        {
            _state.SyncPeerBehind(from, timeout.Round);
        }

        if (timeout.Round + 1 < _state.CurrentRound)
        {
            return;
        }

        var verdict = _checks.CheckTimeout(timeout);
        if (!verdict.IsAccepted)
        {
            _state.Reject(from, verdict.Reason!);
            return;
        }

        // Only a timeout its certificates place in its round counts: a faulty validator can sign one for any round.
        if (timeout.HighQc.Round + 1 == timeout.Round || timeout.LastRoundTc?.Round + 1 == timeout.Round)
        {
            _state.JournalGuard?.Heard(timeout.Voter, timeout.Round);
        }

        if (timeout.LastRoundTc is { } tc)
        {
            if (tc.Round + 1 != timeout.Round)
            {
                _state.Reject(from, $"timeout of validator {timeout.Voter} for round {timeout.Round} carries a TC of round {tc.Round}");
                return;
            }

            if (tc.Round >= _state.CurrentRound)
            {
                var tcVerdict = _checks.CheckTc(tc);
                if (!tcVerdict.IsAccepted)
                {
                    _state.Reject(from, tcVerdict.Reason!);
                    return;
                }
            }
        }

        _steps.AdvanceWith(timeout.HighQc, from);
        if (timeout.LastRoundTc is not null)
        {
            _steps.AdvanceWith(timeout.LastRoundTc);
        }

        if (timeout.Round > _state.CurrentRound + _options.MaxRoundsAhead)
        {
            _state.Reject(from, $"timeout of validator {timeout.Voter} for round {timeout.Round} is too far ahead of round {_state.CurrentRound}");
            return;
        }

        AddTimeout(timeout);
    }

    public void OnRoundSync(PeerId from, RoundSync sync)
    {
        var tc = sync.LastRoundTc is { } offered && offered.Round >= _state.CurrentRound ? offered : null;
        if (sync.HighQc.Round <= _state.HighQc.Round && tc is null)
        {
            return;
        }

        var verdict = _checks.CheckQc(sync.HighQc);
        verdict = verdict.IsAccepted && tc is not null ? _checks.CheckTc(tc) : verdict;
        if (!verdict.IsAccepted)
        {
            _state.Reject(from, $"round sync: {verdict.Reason}");
            return;
        }

        _steps.AdvanceWith(sync.HighQc, from);
        if (tc is not null)
        {
            _steps.AdvanceWith(tc);
        }
    }

    private void AddTimeout(TimeoutVote timeout)
    {
        var added = _timeouts.Add(timeout);
        if (added.Evidence is not null)
        {
            _state.Effects.Add(new EquivocationDetected(added.Evidence));
        }

        if (added.ReachedOneHonest && timeout.Round >= _state.CurrentRound && _safety.State.LastTimeout?.Round != timeout.Round)
        {
            if (timeout.Round > _state.CurrentRound)
            {
                _steps.EnterRound(timeout.Round, null);
            }

            TimeOut(timeout.Round, joined: true);
        }

        if (added.Certificate is not null)
        {
            _steps.AdvanceWith(added.Certificate);
        }
    }

    /// <summary>
    /// This validator times out in <paramref name="round"/> (<paramref name="joined"/>: because f + 1 others did): its
    /// timeout is signed, sent to everyone and counted.
    /// </summary>
    public void TimeOut(long round, bool joined = false)
    {
        var decision = _safety.TimeoutFor(round, _state.HighQc);
        if (decision.Message is not { } timeout)
        {
            return;
        }

        if (decision.StateChanged)
        {
            _state.Effects.Add(new PersistSafetyState(_safety.State));
            if (joined)
            {
                _state.Counters.TimeoutsJoined++;
            }
            else if (_state.FirstProposalByRound.ContainsKey(round))
            {
                _state.Counters.TimeoutsWithoutQuorum++;
            }
            else
            {
                _state.Counters.TimeoutsWithoutProposal++;
            }
        }

        _checks.OwnTimeout(timeout);
        _state.Effects.Add(new Broadcast(_state.LastRoundTc?.Round + 1 == round ? timeout with { LastRoundTc = _state.LastRoundTc } : timeout));
        AddTimeout(timeout);
    }
}
