using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// One validator's consensus: the pure components (safety rules, block tree, aggregators, pacemaker policy, mempool)
/// wired into chained HotStuff with the two-chain commit rule and timeout certificates. It does no I/O and reads no clock: the host passes time in, carries out the
/// returned effects in order, and calls back on timers. Every handler tolerates any peer input.
/// </summary>
public sealed class Replica : IRoundSteps
{
    private readonly ChainParameters _chain;
    private readonly int _self;
    private readonly Ed25519PrivateKey _key;
    private readonly SignatureChecks _checks;
    private readonly ICommittedBlockStore _store;
    private readonly ReplicaOptions _options;
    private readonly IVotingRules _safety;
    private readonly BlockTree _tree;
    private readonly VoteAggregator _votes;
    private readonly TimeoutAggregator _timeouts;
    private readonly LeaderElection _leaders;
    private readonly ChainSync _sync;
    private readonly RoundState _state;
    private readonly ProposalIntake _intake;
    private readonly RoundTimeouts _roundTimeouts;
    private readonly Func<Hash32, bool> _isCommitted;
    private readonly List<Block> _restoredBlocks = [];
    private readonly ExecutionProgress _execution;
    private readonly ProposalContents _contents;
    private readonly EpochBoundary _epoch;
    private readonly EpochProof? _openingProof;
    private readonly EpochClosing _closing;
    private long _proposedRound;
    private bool _ended;
    private int _consecutiveTimeouts;

    // The round whose leader (this validator) waits to propose, for a transaction on an idle chain, for its lagging
    // executor or to learn where its epoch ends, and the round whose wait is over.
    private long _waitRound = -1;
    private long _waitOverRound = -1;

    public Replica(
        ChainParameters chain,
        int self,
        Ed25519PrivateKey key,
        ISignatureVerifier verifier,
        ICommittedBlockStore store,
        SafetyState safetyState,
        IEnumerable<Block> persistedBlocks,
        ReplicaOptions? options = null,
        ReplicaEpoch? epoch = null)
    {
        ArgumentNullException.ThrowIfNull(persistedBlocks);
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(safetyState);

        _chain = chain;
        _self = self;
        _key = key;
        _store = store;
        _options = options ?? ReplicaOptions.Default;
        _execution = new ExecutionProgress(chain, store, _options.MaxExecutionLagBlocks);
        _checks = new SignatureChecks(chain, verifier);
        _epoch = new EpochBoundary(chain.Epoch, epoch?.StartHeight ?? 1);
        _openingProof = epoch?.OpeningProof;
        var rules = self == ObserverRules.Index ? null : new SafetyRules(chain, self, key, safetyState);
        _safety = rules is null ? new ObserverRules(safetyState) : _options.DecorateSafetyRules?.Invoke(rules) ?? rules;
        _votes = new VoteAggregator(chain.Validators);
        _timeouts = new TimeoutAggregator(chain.Validators);
        _leaders = new LeaderElection(chain.Validators, chain.LeaderReputation);
        // A later epoch opens with nothing signed in it by design; one resumed so has lost its journal (or never voted there).
        var journalGuard = _options.GuardEmptyJournal && rules is not null && (safetyState.Epoch == 0 || epoch is { Opening: false })
            && EmptyJournalGuard.IsNeeded(safetyState, chain.Validators)
            ? new EmptyJournalGuard(chain.Validators, self)
            : null;
        Mempool = new Mempool(_options.MempoolMaxTransactions, _options.MempoolMaxBytes, chain.Limits.MaxTransactionBytes);

        // A transaction in the mempool is not committed: admission asks the store, committing removes it, and what an
        // abandoned fork hands back is asked again. Asking the mempool first spares the store's index (a cache miss
        // into its filter) for nearly every transaction a leader selects or a proposal carries.
        _isCommitted = hash => !Mempool.Contains(hash) && store.ContainsTransaction(hash);
        _contents = new ProposalContents(chain, Mempool, _isCommitted);

        var root = store.Height == 0 ? chain.GenesisBlock : store.GetByHeight(store.Height)
            ?? throw new ArgumentException($"The block store reports height {store.Height} but cannot return that block.", nameof(store));
        _tree = new BlockTree(root);
        // Leader history is this epoch's own: an earlier epoch's blocks name proposers by another set's indices.
        for (var height = Math.Max(_epoch.StartHeight, store.Height - _leaders.HistoryBlocks + 1); height <= store.Height; height++)
        {
            _leaders.Record(store.GetByHeight(height)
                ?? throw new ArgumentException($"The block store cannot return committed height {height}, which leader election needs.", nameof(store)));
        }

        var rootQc = store.Height == 0 ? chain.GenesisQc : store.CertificateAt(store.Height)!;
        epoch?.OpenOn(_checks, rootQc, verifier);
        var highQc = safetyState.HighQc.Round > rootQc.Round ? safetyState.HighQc : rootQc;
        // A commit proof from before this epoch's first commit certifies a block of the epoch before, past its end.
        if (store.CommitProof is { } proof && proof.Round > highQc.Round && store.Height >= _epoch.StartHeight)
        {
            highQc = proof;
        }

        // An opening epoch begins past every round this validator signed in before it (see SafetyState.OpeningEpoch).
        var firstRound = epoch is { Opening: true } ? safetyState.LastVotedRound + 1 : safetyState.LastVotedRound;
        _state = new RoundState(highQc, Math.Max(Math.Max(highQc.Round + 1, firstRound), 1)) { JournalGuard = journalGuard };
        _intake = new ProposalIntake(chain, self, _checks, _tree, store, _leaders, _safety, _isCommitted, _state, this, _epoch, () => _execution.Height);
        _roundTimeouts = new RoundTimeouts(_checks, _timeouts, _safety, _options, _state, this);
        _sync = new ChainSync(chain, self, _options, _checks, _tree, store, _state, _isCommitted, this);
        _closing = new EpochClosing(chain.Epoch, _checks, _tree, store, _epoch, _openingProof, _isCommitted, _state, this, () => _ended);

        // A leader may have sent a proposal for the round after its last durable vote or timeout without recording it
        // (see TryPropose), so a restarted validator proposes nothing up to there: it could not repeat the same block.
        _proposedRound = safetyState.LastVotedRound >= 1 && epoch is not { Opening: true } ? safetyState.LastVotedRound + 1 : 0;

        // Kept blocks were checked when first inserted; blocks of abandoned forks simply find no parent, and those of
        // another epoch (past the last one's end) never belong to this one's tree.
        foreach (var block in persistedBlocks.Where(b => b.Height > root.Height && b.Header.Epoch == chain.Epoch).OrderBy(b => b.Height).ThenBy(b => b.Id))
        {
            if (_tree.TryInsert(block, _isCommitted).Result == InsertResult.Inserted)
            {
                _restoredBlocks.Add(block);
            }
        }
    }

    public long CurrentRound => _state.CurrentRound;

    /// <summary>The epoch this replica runs, and where it ends once execution has said.</summary>
    public EpochBoundary Epoch => _epoch;

    public QuorumCertificate HighQc => _state.HighQc;

    public long CommittedHeight => _store.Height;

    /// <summary>The height whose app hash the executor last reported, and that hash.</summary>
    public long ExecutedHeight => _execution.Height;

    public Hash32 ExecutedAppHash => _execution.AppHash;

    /// <summary>What it counts for its operator: proposals held for the executor, timeouts by cause.</summary>
    public ReplicaCounters Counters => _state.Counters;

    public SafetyState SafetyState => _safety.State;

    public Mempool Mempool { get; }

    /// <summary>Who leads a round as this validator computes it from what it has committed, and the reputation weights.</summary>
    public ILeaderView Leaders => _leaders;

    /// <summary>
    /// Commits what the kept blocks and the high QC already prove committed (a crash can fall between a QC and the
    /// commit it implies), arms the first round timer, and proposes if this validator leads the round it resumes in.
    /// </summary>
    public IReadOnlyList<ReplicaEffect> Start(long now) => Run(now, () =>
    {
        foreach (var block in _restoredBlocks)
        {
            Commit(block.Header.Justify);
        }

        _restoredBlocks.Clear();
        if (_tree.Contains(_state.HighQc.BlockId))
        {
            Commit(_state.HighQc);
        }

        ArmTimer();
        _closing.Announce(asking: true);
        TryPropose();
    });

    public IReadOnlyList<ReplicaEffect> OnTimer(long round, long now) => Run(now, () =>
    {
        if (round != _state.CurrentRound)
        {
            return;
        }

        if (_waitRound == round)
        {
            // The wait is over: a block now (without transactions if there still are none, or the executor still
            // lags), and the round's own timer from here.
            _waitRound = -1;
            _waitOverRound = round;
            TryPropose();
            ArmTimer();
            return;
        }

        _consecutiveTimeouts++;
        _closing.Announce(asking: _consecutiveTimeouts >= 2);
        _roundTimeouts.TimeOut(round);
        _sync.RetryAll();
        if (_state.CurrentRound == round)
        {
            ArmTimer();
        }
    });

    public IReadOnlyList<ReplicaEffect> OnMessage(PeerId from, ConsensusMessage message, long now) => Run(now, () =>
    {
        switch (message)
        {
            case Proposal proposal:
                _intake.OnProposal(from, proposal);
                break;
            case Vote vote:
                OnVote(from, vote);
                break;
            case TimeoutVote timeout:
                _roundTimeouts.OnTimeout(from, timeout);
                break;
            case RoundSync sync:
                _roundTimeouts.OnRoundSync(from, sync);
                break;
            case EpochEnd end:
                _closing.Catch(end.Proof, from);
                break;
            case EpochEndRequest request:
                _closing.Answer(request, from);
                break;
            case BlockRequest request:
                _sync.OnBlockRequest(from, request);
                break;
            case BlockResponse response:
                _sync.OnBlockResponse(from, response);
                break;
            case BlockRangeRequest range:
                _sync.OnBlockRangeRequest(from, range);
                break;
            case BlockRangeResponse range:
                _sync.OnBlockRangeResponse(from, range);
                break;
            default:
                _state.Reject(from, $"unexpected message {message.GetType().Name}");
                break;
        }
    });

    public MempoolAddResult SubmitTransaction(byte[] transaction) => SubmitTransactions([transaction])[0];

    /// <summary>This validator leads the current round and waits to propose: for a transaction on an idle chain, or for its executor.</summary>
    public bool IsWaitingToPropose => _waitRound == _state.CurrentRound;

    /// <summary>After transactions were added: a leader waiting on an idle chain proposes at once.</summary>
    public IReadOnlyList<ReplicaEffect> OnTransactionsAdded(long now) => Run(now, () =>
    {
        if (IsWaitingToPropose && Mempool.Count > 0)
        {
            ProposeAfterWait();
        }
    });

    /// <summary>
    /// The executor's app hash after <paramref name="height"/>, which must be the oldest committed block it was handed
    /// and has not reported. It is recorded in the store, is what this validator's proposals claim from now on, and
    /// settles any claim a leader made about that height. <paramref name="nextEpoch"/> is where the next epoch
    /// starts and its set, when executing this height decided a validator-set change.
    /// </summary>
    public IReadOnlyList<ReplicaEffect> OnExecuted(long height, Hash32 appHash, long now, NextEpoch? nextEpoch = null) => Run(now, () =>
    {
        var block = _execution.Executed(height, appHash);
        if (nextEpoch is not null && _epoch.LastHeight is null)
        {
            _epoch.EndBefore(nextEpoch);
            _closing.RetryEarly();
        }

        _intake.CheckClaimOnExecuted(height, appHash);
        _state.Effects.Add(new BlockExecuted(block, appHash));
        _intake.RetryHeldForEpoch();
        if (IsWaitingToPropose && !_execution.IsLagging)
        {
            ProposeAfterWait();
        }
    });

    private void ProposeAfterWait()
    {
        TryPropose();
        if (_proposedRound == _state.CurrentRound)
        {
            _waitRound = -1;
            ArmTimer();
        }
    }

    /// <summary>Each transaction as <see cref="SubmitTransaction"/> takes it, in order (<see cref="Mempool.AddUncommitted"/>).</summary>
    public MempoolAddResult[] SubmitTransactions(IReadOnlyList<byte[]> transactions) =>
        SubmitTransactions(transactions, [.. transactions.Select(t => Block.TransactionHash(t))]);

    /// <summary>For a caller that hashed the transactions already: each hash must be its transaction's <see cref="Block.TransactionHash"/>.</summary>
    public MempoolAddResult[] SubmitTransactions(IReadOnlyList<byte[]> transactions, IReadOnlyList<Hash32> hashes) =>
        Mempool.AddUncommitted(transactions, hashes, _store);

    private List<ReplicaEffect> Run(long now, Action handler)
    {
        _state.Now = now;
        _state.Effects = [];
        if (_ended)
        {
            return _state.Effects;
        }

        handler();
        if (_intake.HasAwaitingLeader)
        {
            _intake.RetryAwaitingLeader();
        }

        _sync.RetryOverdue();

        return _state.Effects;
    }

    private void OnVote(PeerId from, Vote vote)
    {
        if (vote.Round + 1 < _state.CurrentRound)
        {
            _state.Reject(from, $"stale vote of validator {vote.Voter} for round {vote.Round}; current round is {_state.CurrentRound}");
            return;
        }

        if (vote.Round > _state.CurrentRound + _options.MaxRoundsAhead)
        {
            _state.Reject(from, $"vote of validator {vote.Voter} for round {vote.Round} is too far ahead of round {_state.CurrentRound}");
            return;
        }

        var verdict = _checks.CheckVote(vote);
        if (!verdict.IsAccepted)
        {
            _state.Reject(from, verdict.Reason!);
            return;
        }

        var (qc, evidence) = _votes.Add(vote);
        if (evidence is not null)
        {
            _state.Effects.Add(new EquivocationDetected(evidence));
        }

        if (qc is not null)
        {
            AdvanceWith(qc, from);
        }
    }

    /// <summary>A verified QC: it may raise the high QC, commit blocks (the two-chain rule) and start the next round.</summary>
    private void AdvanceWith(QuorumCertificate qc, PeerId from)
    {
        if (qc.Round > _state.HighQc.Round)
        {
            _state.HighQc = qc;
        }

        if (_tree.Contains(qc.BlockId))
        {
            Commit(qc);
        }
        else if (qc.Round > _tree.Root.Round)
        {
            _sync.OnUnknownCertified(qc, from);
        }

        if (qc.Round >= _state.CurrentRound)
        {
            _consecutiveTimeouts = 0;
            EnterRound(qc.Round + 1, null);
        }
    }

    private void AdvanceWith(TimeoutCertificate tc)
    {
        if (tc.Round >= _state.CurrentRound)
        {
            // The round's leader did not propose here, or it did and the next leader formed no QC from the votes.
            var failed = _state.FirstProposalByRound.TryGetValue(tc.Round, out var proposal) && proposal.Block.Header.Proposer == _leaders.LeaderOf(tc.Round)
                ? _leaders.LeaderOf(tc.Round + 1)
                : _leaders.LeaderOf(tc.Round);
            if (failed != _self)
            {
                _state.Suspects.Add(failed);
            }

            EnterRound(tc.Round + 1, tc);
        }
    }

    private void EnterRound(long round, TimeoutCertificate? viaTc)
    {
        _state.CurrentRound = round;
        _state.LastRoundTc = viaTc;
        _votes.ForgetBelow(round - 1);
        _timeouts.ForgetBelow(round - 1);
        foreach (var stale in _state.FirstProposalByRound.Keys.Where(r => r < round - 1).ToList())
        {
            _state.FirstProposalByRound.Remove(stale);
        }

        _intake.ForgetBelow(round);

        ArmTimer();
        TryPropose();
    }

    private void ArmTimer()
    {
        // Two waits, not one: a validator that formed or saw the round's QC before the leader proposed (votes sent to
        // everyone) enters the round before this leader's idle wait, and learns the round's QC only from the
        // next leader's proposal, after that leader's wait.
        var idleAllowance = _options.Pacemaker.IdleIntervalMs > 0 && IsIdleAbove(_state.HighQc.BlockId) ? 2 * _options.Pacemaker.IdleIntervalMs : 0;
        // A leader that is likely down gets a quarter of the timer: its round is the one lost, and soon. If it
        // is up after all, its proposal comes in a few message delays, well within that.
        var leader = _leaders.LeaderOf(_state.CurrentRound);
        var timeout = _options.Pacemaker.TimeoutFor(_consecutiveTimeouts);
        if (leader != _self && (_state.Suspects.Contains(leader) || !_leaders.IsActive(leader)))
        {
            timeout = Math.Max(1, timeout / 4);
        }

        _state.Effects.Add(new ArmRoundTimer(_state.CurrentRound, timeout + idleAllowance));
    }

    /// <summary>
    /// No block between the last commit and <paramref name="blockId"/> carries a transaction (false when that block is
    /// unknown). Looser than a leader's condition to wait, which also wants the last committed block empty: a voter
    /// learns of a commit one round after the leader that made it, and its timer must already cover that leader's wait.
    /// </summary>
    private bool IsIdleAbove(Hash32 blockId) =>
        _tree.Get(blockId) is { } block && _tree.PathFromRoot(block).All(b => b.TransactionHashes.Count == 0);

    /// <summary>The leader extends the block of its high QC, with the TC when the QC is not from the round before.</summary>
    private void TryPropose()
    {
        var round = _state.CurrentRound;
        if (_ended || _leaders.LeaderOf(round) != _self || _proposedRound >= round || _safety.State.LastVotedRound >= round
            || _state.JournalGuard?.MayVoteIn(round) == false)
        {
            return;
        }

        var needsTc = _state.HighQc.Round + 1 != round;
        if (needsTc && _state.LastRoundTc?.Round + 1 != round)
        {
            return;
        }

        var parent = _tree.Get(_state.HighQc.BlockId);
        if (parent is null)
        {
            _sync.Fetch(_state.HighQc.BlockId, null);
            return;
        }

        var place = _epoch.PlaceOf(parent.Height + 1, _execution.Height);
        if (place == EpochPlace.Unknown)
        {
            // A block not executed yet decides whether that height is still this epoch's (OnExecuted proposes then).
            WaitToPropose(round, Math.Max(1, _options.Pacemaker.BaseTimeoutMs / 2));
            return;
        }

        var durableLastVotedRound = _safety.State.LastVotedRound;
        var uncommitted = _tree.PathFromRoot(parent);
        var lagging = _execution.IsLagging;
        if (lagging && _waitOverRound != round)
        {
            // Back-pressure: wait for the executor (OnExecuted proposes once it is back within the bound) rather than
            // spin out empty blocks that take the machine from it; at most half the base round timeout, since the
            // others' timers know nothing of this validator's executor.
            if (_waitRound != round)
            {
                _state.Counters.ProposalsHeldForExecution++;
            }

            WaitToPropose(round, Math.Max(1, _options.Pacemaker.BaseTimeoutMs / 2));
            return;
        }

        // Once a wait for the executor is over, a block without transactions keeps the round; past the epoch's end
        // blocks are empty, and proposed at once, since they exist only to commit its last block.
        var transactions = lagging || place == EpochPlace.Beyond ? [] : _contents.Select(uncommitted);

        if (transactions.Count == 0 && !lagging && place == EpochPlace.Within && _options.Pacemaker.IdleIntervalMs > 0 && _waitOverRound != round
            && _tree.Root.TransactionHashes.Count == 0 && uncommitted.All(b => b.TransactionHashes.Count == 0))
        {
            // Idle chain: nothing to propose and nothing to commit: wait for a transaction, at most the idle interval. The
            // last committed block must be empty too: a leader that has just committed a transaction's block holds
            // the only certificate that proves it, which the others learn from this leader's next proposal.
            WaitToPropose(round, _options.Pacemaker.IdleIntervalMs);
            return;
        }

        var block = Block.Create(
            round,
            parent.Height + 1,
            _state.HighQc,
            _self,
            Math.Max(_state.Now, parent.Header.Timestamp + 1),
            transactions,
            _execution.Height,
            _execution.AppHash,
            _leaders.FailedProposers(parent.Round, round, uncommitted),
            _chain.Epoch,
            _chain.Validators.Hash, place == EpochPlace.Beyond ? _epoch.NextSetHash : Hash32.Zero);
        var proposal = new Proposal(block, _key.Sign(_chain.Domain.Proposal(block.Id)), needsTc ? _state.LastRoundTc : null)
            { OpeningProof = parent.Height == _epoch.StartHeight - 1 ? _openingProof : null };
        _proposedRound = round;
        _state.FirstProposalByRound[round] = proposal;

        // A leader that crashes and restarts in this round must not propose a second, different block for it. When
        // its vote or timeout in the round before is durable (every state change before this point is written before
        // the proposal leaves), a restart already keeps it from proposing here (see the constructor), so the proposal
        // leaves at once, ahead of keeping its own block: the leader's block and vote are written while the others
        // write theirs, and no write of the leader's is on the round's critical path. A leader that loses its block
        // in a crash fetches it like any other missing block. Otherwise the proposal waits for the leader's own vote.
        var before = _state.Effects.Count;
        _intake.InsertAndVote(proposal, PeerId.Self);
        var persisted = _state.Effects.FindIndex(before, e => e is PersistSafetyState);
        if (persisted >= 0)
        {
            var restartCannotRepropose = durableLastVotedRound >= 1 && durableLastVotedRound + 1 >= round;
            _state.Effects.Insert(restartCannotRepropose ? before : persisted + 1, new Broadcast(proposal));
        }
    }

    /// <summary>The wait's own timer, once per round: a second reason to wait in the same round keeps the first's.</summary>
    private void WaitToPropose(long round, long delayMs)
    {
        if (_waitRound != round)
        {
            _waitRound = round;
            _state.Effects.Add(new ArmRoundTimer(round, delayMs));
        }
    }

    private void Commit(QuorumCertificate qc)
    {
        var (committed, abandoned) = _tree.CommitFor(qc);
        (Block Block, int Index)? last = null;
        for (var i = 0; i < committed.Count; i++)
        {
            var block = committed[i];
            if (block.Height > _epoch.LastHeight)
            {
                // Past the epoch's end: an empty block that served to commit the last one, never a block of the chain.
                break;
            }

            var certificate = i + 1 < committed.Count ? committed[i + 1].Header.Justify : _tree.Get(qc.BlockId)!.Header.Justify;
            _store.Append(block, certificate);
            _execution.Committed(block);
            _leaders.Record(block);
            Mempool.RemoveCommitted(block.TransactionHashes);
            _state.Effects.Add(new BlockCommitted(block));
            if (block.Height == _epoch.LastHeight)
            {
                last = (block, i);
            }
        }

        if (committed.Count > 0)
        {
            _store.KeepCommitProof(qc);
            _consecutiveTimeouts = 0;
            Mempool.Return(abandoned.SelectMany(b => b.Transactions), _isCommitted);
        }

        if (last is { } end)
        {
            _ended = true;
            _closing.Ended(end.Block, [.. committed.Skip(end.Index + 1).Append(_tree.Get(qc.BlockId)!)], qc);
        }
    }

    void IRoundSteps.CatchEpochEnd(EpochProof proof, PeerId from) => _closing.Catch(proof, from);

    void IRoundSteps.BlocksConnected()
    {
        _closing.RetryEarly();
        if (_tree.Contains(_state.HighQc.BlockId))
        {
            Commit(_state.HighQc);
        }

        _intake.RetryAwaitingParent();
        TryPropose();
    }

    void IRoundSteps.AdvanceWith(QuorumCertificate qc, PeerId from) => AdvanceWith(qc, from);

    void IRoundSteps.AdvanceWith(TimeoutCertificate tc) => AdvanceWith(tc);

    void IRoundSteps.EnterRound(long round, TimeoutCertificate? viaTc) => EnterRound(round, viaTc);

    void IRoundSteps.Fetch(Hash32 blockId, PeerId? from) => _sync.Fetch(blockId, from);
}
