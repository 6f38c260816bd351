using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// A replica's handling of proposals: their checks and certificates, the judgement of their leader (taken, refused,
/// or held until the committed chain settles it), blocks that wait for their parent, the app-hash claims they carry,
/// and the vote, which goes through the safety rules and to the next leader, or to everyone when that one is in doubt.
/// </summary>
internal sealed class ProposalIntake(ChainParameters chain, int self, SignatureChecks checks, BlockTree tree, ICommittedBlockStore store,
    LeaderElection leaders, IVotingRules safety, Func<Hash32, bool> isCommitted, RoundState state, IRoundSteps steps, EpochBoundary epoch, Func<long> executedHeight)
{
    private readonly ChainParameters _chain = chain;
    private readonly int _self = self;
    private readonly SignatureChecks _checks = checks;
    private readonly BlockTree _tree = tree;
    private readonly ICommittedBlockStore _store = store;
    private readonly LeaderElection _leaders = leaders;
    private readonly IVotingRules _safety = safety;
    private readonly Func<Hash32, bool> _isCommitted = isCommitted;
    private readonly RoundState _state = state;
    private readonly IRoundSteps _steps = steps;
    private readonly SortedDictionary<long, (Proposal Proposal, PeerId From)> _awaitingParent = [];
    private readonly SortedDictionary<long, (Proposal Proposal, PeerId From)> _awaitingLeader = [];
    private readonly Dictionary<long, (Hash32 AppHash, Hash32 Block)> _appHashClaims = [];

    // A proposal of the current round at a height whose epoch execution has not settled yet: voted on once it has.
    private (Proposal Proposal, PeerId From)? _heldForEpoch;

    public bool HasAwaitingLeader => _awaitingLeader.Count > 0;

    public void OnProposal(PeerId from, Proposal proposal)
    {
        var block = proposal.Block;
        if (block.Round < _state.CurrentRound)
        {
            _state.SyncPeerBehind(from, block.Round);
            return;
        }

        if (block.Header.Epoch == _chain.Epoch + 1 && proposal.OpeningProof is { } proof)
        {
            _steps.CatchEpochEnd(proof, from);
            return;
        }

        var verdict = ProposalRules.CheckShape(proposal, _chain.Limits);
        verdict = verdict.IsAccepted ? ProposalRules.CheckEpoch(block, _chain) : verdict;
        verdict = verdict.IsAccepted ? _checks.CheckProposalSignature(proposal) : verdict;
        verdict = verdict.IsAccepted ? _checks.CheckQc(block.Header.Justify) : verdict;
        verdict = verdict.IsAccepted && proposal.LastRoundTc is { } tc ? _checks.CheckTc(tc) : verdict;
        if (!verdict.IsAccepted)
        {
            _state.Reject(from, verdict.Reason!);
            return;
        }

        _state.JournalGuard?.Heard(block.Header.Proposer, block.Round);

        // The certificates stand whoever sent them: a validator that is behind commits what they prove first, and
        // only then judges the leader of the round, from the chain it has now.
        _steps.AdvanceWith(block.Header.Justify, from);
        if (proposal.LastRoundTc is not null)
        {
            _steps.AdvanceWith(proposal.LastRoundTc);
        }

        ConsiderFromLeader(proposal, from);
    }

    private void ConsiderFromLeader(Proposal proposal, PeerId from)
    {
        var block = proposal.Block;
        if (block.Round < _state.CurrentRound)
        {
            return;
        }

        var leader = _leaders.LeaderOf(block.Round);
        if (block.Header.Proposer != leader)
        {
            if (_leaders.IsSettled(block.Round))
            {
                _state.Reject(from, $"proposal for round {block.Round} by validator {block.Header.Proposer}; the leader is {leader}");
                return;
            }

            // Not committed as far as the round's anchor: the proposer may lead by a chain committed a little further
            // (or less far) than here. Taken if some such chain makes it the leader, else judged again later.
            var plausible = _tree.Get(block.ParentId) is { } parent
                && _leaders.PlausibleLeaders(block.Round, _tree.PathFromRoot(parent)).Contains(block.Header.Proposer);
            if (!plausible)
            {
                _awaitingLeader[block.Round] = (proposal, from);
                return;
            }
        }

        _state.Suspects.Remove(block.Header.Proposer);
        // Two validators may each propose for one round when they compute its leader from chains committed to
        // different heights; only two proposals by one validator are evidence.
        if (_state.FirstProposalByRound.TryGetValue(block.Round, out var first) && first.Block.Header.Proposer == block.Header.Proposer)
        {
            if (first.Block.Id == block.Id)
            {
                return;
            }

            _state.Effects.Add(new EquivocationDetected(new Equivocation(block.Header.Proposer, block.Round, "two proposals", first, proposal)));

            // Dropping the second proposal also keeps a validator from voting twice.
            if (_safety.VotesOncePerRound)
            {
                return;
            }
        }

        _state.FirstProposalByRound.TryAdd(block.Round, proposal);
        if (!_tree.Contains(block.ParentId))
        {
            _awaitingParent[block.Round] = (proposal, from);
            _steps.Fetch(block.ParentId, from);
            return;
        }

        InsertAndVote(proposal, from);
    }

    /// <summary>Execution moved on: a held proposal of the current round is voted on if its epoch is now known.</summary>
    public void RetryHeldForEpoch()
    {
        if (_heldForEpoch is not { } held)
        {
            return;
        }

        _heldForEpoch = null;
        if (held.Proposal.Round == _state.CurrentRound)
        {
            InsertAndVote(held.Proposal, held.From);
        }
    }

    /// <summary>After each step, as its commits and fetched blocks may have settled the leader or made the proposer plausible.</summary>
    public void RetryAwaitingLeader()
    {
        foreach (var (round, (proposal, from)) in _awaitingLeader.ToList())
        {
            _awaitingLeader.Remove(round);
            ConsiderFromLeader(proposal, from);
        }
    }

    public void InsertAndVote(Proposal proposal, PeerId from)
    {
        var block = proposal.Block;
        var (result, reason) = _tree.TryInsert(block, _isCommitted);
        if (result is InsertResult.Rejected or InsertResult.BelowCommitted)
        {
            _state.Reject(from, reason!);
            return;
        }

        if (result == InsertResult.Inserted)
        {
            _state.Effects.Add(new PersistBlock(block));
        }

        if (!CheckAppHashClaim(block) || !CheckFailedProposers(block, from))
        {
            return;
        }

        if (block.Round != _state.CurrentRound)
        {
            return;
        }

        var timestamp = ProposalRules.CheckTimestamp(block, _chain.Limits, _state.Now);
        if (!timestamp.IsAccepted)
        {
            _state.Reject(from, timestamp.Reason!);
            return;
        }

        if (_state.JournalGuard?.MayVoteIn(block.Round) == false)
        {
            return;
        }

        switch (epoch.PlaceOf(block.Height, executedHeight()))
        {
            case EpochPlace.Unknown:
                _heldForEpoch = (proposal, from);
                return;
            case EpochPlace.Beyond when block.Transactions.Count > 0:
                _state.Reject(from, $"proposal for round {block.Round} carries transactions at height {block.Height}, past the epoch's last height");
                return;
            case EpochPlace.Beyond when block.Header.NextSetHash != epoch.NextSetHash:
                // What the old set certifies here is what a node following the chain by headers takes the next set to be.
                _state.Reject(from, $"proposal for round {block.Round} at height {block.Height}, past the epoch's last height, names next set " +
                    $"{block.Header.NextSetHash.ToShortString()}; execution scheduled {epoch.NextSetHash.ToShortString()}");
                return;
            case EpochPlace.Within when block.Header.NextSetHash != Hash32.Zero:
                _state.Reject(from, $"proposal for round {block.Round} names a next set at height {block.Height}, within the epoch");
                return;
        }

        var decision = _safety.VoteFor(proposal);
        if (decision.Message is not { } vote)
        {
            return;
        }

        // Journaled from here on (the persist effect comes before the vote leaves).
        _state.JournalGuard = null;

        _checks.OwnVote(vote);
        if (decision.StateChanged)
        {
            _state.Effects.Add(new PersistSafetyState(_safety.State));
        }

        // Even a vote for itself goes through the host: handling it here could form a QC, start the next round and
        // propose again within one call, which for a single validator would never return. When the next leader is
        // likely down, every validator gets the vote and forms the QC, so that its round is the only one lost.
        // So it does when this validator is not sure who leads next: other validators may have committed further.
        var next = _leaders.LeaderOf(block.Round + 1);
        if (_state.Suspects.Contains(next) || !_leaders.IsActive(next) || !_leaders.IsSettled(block.Round + 1))
        {
            _state.Effects.Add(new Broadcast(vote));
            _state.Effects.Add(new SendToValidator(_self, vote));
        }
        else
        {
            _state.Effects.Add(new SendToValidator(next, vote));
        }
    }

    /// <summary>
    /// The failed proposers a block names follow from its ancestry, so a leader that names others, to keep a
    /// rival from leading or itself from being weighed down, gets no vote.
    /// </summary>
    private bool CheckFailedProposers(Block block, PeerId from)
    {
        // The common case, a block on its parent's round, skips no round and names nobody: no path to build.
        if (block.Header.Justify.Round + 1 == block.Round && block.Header.FailedProposers.Length == 0)
        {
            return true;
        }

        var parent = _tree.Get(block.ParentId)!;
        var expected = _leaders.FailedProposers(parent.Round, block.Round, parent.Id == _tree.Root.Id ? [] : _tree.PathFromRoot(parent));
        if (expected.AsSpan().SequenceEqual(block.Header.FailedProposers))
        {
            return true;
        }

        _state.Reject(from, $"proposal for round {block.Round} names failed proposers [{string.Join(", ", SignerBitmap.Signers(block.Header.FailedProposers))}]; "
            + $"its ancestry makes them [{string.Join(", ", SignerBitmap.Signers(expected))}]");
        return false;
    }

    /// <summary>
    /// A leader states the app hash after the last height it executed. Where this validator has executed that height
    /// too they must agree, or it does not vote; otherwise the claim is checked when its executor gets there.
    /// </summary>
    private bool CheckAppHashClaim(Block block)
    {
        var height = block.Header.ExecutedHeight;
        var claimed = block.Header.ExecutedAppHash;
        if (height > _store.ExecutedHeight)
        {
            _appHashClaims.TryAdd(height, (claimed, block.Id));
            return true;
        }

        var local = height == 0 ? _chain.GenesisAppHash : _store.AppHashAt(height) ?? claimed;
        if (local == claimed)
        {
            return true;
        }

        _state.Effects.Add(new AppHashDivergence(height, local, claimed, block.Id));
        return false;
    }

    /// <summary>Proposals whose parent has arrived since are inserted and voted on.</summary>
    public void RetryAwaitingParent()
    {
        foreach (var (round, (proposal, proposer)) in _awaitingParent.ToList())
        {
            if (_tree.Contains(proposal.Block.ParentId))
            {
                _awaitingParent.Remove(round);
                InsertAndVote(proposal, proposer);
            }
        }
    }

    /// <summary>Entering <paramref name="round"/>: proposals held for earlier rounds can no longer be voted on.</summary>
    public void ForgetBelow(long round)
    {
        foreach (var stale in _awaitingParent.Keys.Where(r => r < round).ToList())
        {
            _awaitingParent.Remove(stale);
        }

        foreach (var stale in _awaitingLeader.Keys.Where(r => r < round).ToList())
        {
            _awaitingLeader.Remove(stale);
        }
    }

    /// <summary>
    /// A leader's claim about a height this validator has now executed must match what it computed. Claims are taken
    /// only above the executed height and heights execute one by one, so none below it remains.
    /// </summary>
    public void CheckClaimOnExecuted(long height, Hash32 appHash)
    {
        if (_appHashClaims.Remove(height, out var claim) && claim.AppHash != appHash)
        {
            _state.Effects.Add(new AppHashDivergence(height, appHash, claim.AppHash, claim.Block));
        }
    }
}
