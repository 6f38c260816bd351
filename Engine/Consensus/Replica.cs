using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// One validator's consensus: the pure components (safety rules, block tree, aggregators, pacemaker policy, mempool)
/// wired into chained HotStuff with the two-chain commit rule and timeout certificates. It does no I/O and reads no clock: the host passes time in, carries out the
/// returned effects in order, and calls back on timers. Every handler tolerates any peer input.
/// </summary>
public sealed class Replica
{
    private readonly ChainParameters _chain;
    private readonly int _self;
    private readonly Ed25519PrivateKey _key;
    private readonly SignatureChecks _checks;
    private readonly ICommittedBlockStore _store;
    private readonly IStateMachine _app;
    private readonly ReplicaOptions _options;
    private readonly IVotingRules _safety;
    private readonly BlockTree _tree;
    private readonly VoteAggregator _votes;
    private readonly TimeoutAggregator _timeouts;
    private readonly Dictionary<long, Proposal> _firstProposalByRound = [];
    private readonly SortedDictionary<long, (Proposal Proposal, PeerId From)> _awaitingParent = [];
    private readonly SortedDictionary<long, (Proposal Proposal, PeerId From)> _awaitingLeader = [];
    private readonly LeaderElection _leaders;
    private EmptyJournalGuard? _journalGuard;

    // A leader down: validators whose last round here ended in a timeout without their part (a proposal, or the QC of the
    // round before they lead); a vote for the round before one of them leads goes to every validator.
    private readonly HashSet<int> _suspects = [];
    private readonly BlockFetcher _fetcher;
    private readonly Dictionary<long, (Hash32 AppHash, Hash32 Block)> _appHashClaims = [];
    private readonly Func<Hash32, bool> _isCommitted;
    private readonly List<Block> _restoredBlocks = [];
    private List<ReplicaEffect> _effects = [];
    private TimeoutCertificate? _lastRoundTc;
    private long _proposedRound;
    private int _consecutiveTimeouts;

    // Idle chain: the round whose leader (this validator) waits for a transaction, and the round whose wait is over.
    private long _idleWaitRound = -1;
    private long _idleWaitOverRound = -1;
    private long _now;

    public Replica(
        ChainParameters chain,
        int self,
        Ed25519PrivateKey key,
        ISignatureVerifier verifier,
        ICommittedBlockStore store,
        IStateMachine app,
        SafetyState safetyState,
        IEnumerable<Block> persistedBlocks,
        ReplicaOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(persistedBlocks);
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(safetyState);
        if (app.ExecutedHeight != store.Height)
        {
            throw new ArgumentException($"The application has executed height {app.ExecutedHeight} but the block store holds {store.Height}.", nameof(app));
        }

        _chain = chain;
        _self = self;
        _key = key;
        _store = store;
        _app = app;
        _options = options ?? ReplicaOptions.Default;
        _checks = new SignatureChecks(chain, verifier);
        _fetcher = new BlockFetcher(chain, self, _options);
        var rules = new SafetyRules(chain, self, key, safetyState);
        _safety = _options.DecorateSafetyRules?.Invoke(rules) ?? rules;
        _votes = new VoteAggregator(chain.Validators);
        _timeouts = new TimeoutAggregator(chain.Validators);
        _leaders = new LeaderElection(chain.Validators, chain.LeaderReputation);
        _journalGuard = _options.GuardEmptyJournal && EmptyJournalGuard.IsNeeded(safetyState, chain.Validators)
            ? new EmptyJournalGuard(chain.Validators, self)
            : null;
        Mempool = new Mempool(_options.MempoolMaxTransactions, _options.MempoolMaxBytes, chain.Limits.MaxTransactionBytes);

        // A transaction in the mempool is not committed: admission asks the store, committing removes it, and what an
        // abandoned fork hands back is asked again. Asking the mempool first spares the store's index (a cache miss
        // into its filter) for nearly every transaction a leader selects or a proposal carries.
        _isCommitted = hash => !Mempool.Contains(hash) && store.ContainsTransaction(hash);

        var root = store.Height == 0 ? chain.GenesisBlock : store.GetByHeight(store.Height)
            ?? throw new ArgumentException($"The block store reports height {store.Height} but cannot return that block.", nameof(store));
        _tree = new BlockTree(root);
        for (var height = Math.Max(1, store.Height - _leaders.HistoryBlocks + 1); height <= store.Height; height++)
        {
            _leaders.Record(store.GetByHeight(height)
                ?? throw new ArgumentException($"The block store cannot return committed height {height}, which leader election needs.", nameof(store)));
        }

        var rootQc = store.Height == 0 ? chain.GenesisQc : store.CertificateAt(store.Height)!;
        HighQc = safetyState.HighQc.Round > rootQc.Round ? safetyState.HighQc : rootQc;
        if (store.CommitProof is { } proof && proof.Round > HighQc.Round)
        {
            HighQc = proof;
        }

        CurrentRound = Math.Max(Math.Max(HighQc.Round + 1, safetyState.LastVotedRound), 1);

        // A leader may have sent a proposal for the round after its last durable vote or timeout without recording it
        // (see TryPropose), so a restarted validator proposes nothing up to there: it could not repeat the same block.
        _proposedRound = safetyState.LastVotedRound >= 1 ? safetyState.LastVotedRound + 1 : 0;

        // Kept blocks were checked when first inserted; blocks of abandoned forks simply find no parent.
        foreach (var block in persistedBlocks.Where(b => b.Height > root.Height).OrderBy(b => b.Height).ThenBy(b => b.Id))
        {
            if (_tree.TryInsert(block, _isCommitted).Result == InsertResult.Inserted)
            {
                _restoredBlocks.Add(block);
            }
        }
    }

    public long CurrentRound { get; private set; }

    public QuorumCertificate HighQc { get; private set; }

    public long CommittedHeight => _store.Height;

    public SafetyState SafetyState => _safety.State;

    public Mempool Mempool { get; }

    /// <summary>The leader of <paramref name="round"/> as this validator computes it from what it has committed (leader reputation).</summary>
    public int LeaderOf(long round) => _leaders.LeaderOf(round);

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
        if (_tree.Contains(HighQc.BlockId))
        {
            Commit(HighQc);
        }

        ArmTimer();
        TryPropose();
    });

    public IReadOnlyList<ReplicaEffect> OnTimer(long round, long now) => Run(now, () =>
    {
        if (round != CurrentRound)
        {
            return;
        }

        if (_idleWaitRound == round)
        {
            // The idle wait is over: an empty block now, and the round's own timer from here.
            _idleWaitRound = -1;
            _idleWaitOverRound = round;
            TryPropose();
            ArmTimer();
            return;
        }

        _consecutiveTimeouts++;
        TimeOut(round);
        _effects.AddRange(_fetcher.Retry(overdueOnly: false, _store.Height, _now));
        if (CurrentRound == round)
        {
            ArmTimer();
        }
    });

    public IReadOnlyList<ReplicaEffect> OnMessage(PeerId from, ConsensusMessage message, long now) => Run(now, () =>
    {
        switch (message)
        {
            case Proposal proposal:
                OnProposal(from, proposal);
                break;
            case Vote vote:
                OnVote(from, vote);
                break;
            case TimeoutVote timeout:
                OnTimeout(from, timeout);
                break;
            case RoundSync sync:
                OnRoundSync(from, sync);
                break;
            case BlockRequest request:
                OnBlockRequest(from, request);
                break;
            case BlockResponse response:
                OnBlockResponse(from, response);
                break;
            default:
                Reject(from, $"unexpected message {message.GetType().Name}");
                break;
        }
    });

    public MempoolAddResult SubmitTransaction(byte[] transaction) => SubmitTransactions([transaction])[0];

    /// <summary>This validator leads the current round and waits for a transaction on an idle chain.</summary>
    public bool IsWaitingForTransactions => _idleWaitRound == CurrentRound;

    /// <summary>After transactions were added: a leader waiting on an idle chain proposes at once.</summary>
    public IReadOnlyList<ReplicaEffect> OnTransactionsAdded(long now) => Run(now, () =>
    {
        if (IsWaitingForTransactions && Mempool.Count > 0)
        {
            TryPropose();
            if (_proposedRound == CurrentRound)
            {
                _idleWaitRound = -1;
                ArmTimer();
            }
        }
    });

    /// <summary>
    /// Each transaction as <see cref="SubmitTransaction"/> takes it, in order, with the committed ones found in one
    /// batch: a store whose lookups miss the cache overlaps them (docs/BENCHMARKS.md, admission).
    /// </summary>
    public MempoolAddResult[] SubmitTransactions(IReadOnlyList<byte[]> transactions)
    {
        ArgumentNullException.ThrowIfNull(transactions);
        var hashes = new Hash32[transactions.Count];
        for (var i = 0; i < hashes.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(transactions[i], nameof(transactions));
            hashes[i] = Block.TransactionHash(transactions[i]);
        }

        var committed = new bool[hashes.Length];
        _store.FindCommitted(hashes, committed);
        var results = new MempoolAddResult[hashes.Length];
        for (var i = 0; i < hashes.Length; i++)
        {
            results[i] = committed[i]
                ? new MempoolAddResult(MempoolAddStatus.Duplicate, hashes[i], "transaction is already committed")
                : Mempool.Add(transactions[i], hashes[i]);
        }

        return results;
    }

    private List<ReplicaEffect> Run(long now, Action handler)
    {
        _now = now;
        _effects = [];
        handler();
        if (_awaitingLeader.Count > 0)
        {
            RetryAwaitingLeader();
        }

        if (_fetcher.AnyOverdue(_now))
        {
            _effects.AddRange(_fetcher.Retry(overdueOnly: true, _store.Height, _now));
        }

        return _effects;
    }

    private void OnProposal(PeerId from, Proposal proposal)
    {
        var block = proposal.Block;
        if (block.Round < CurrentRound)
        {
            SyncPeerBehind(from, block.Round);
            return;
        }

        var verdict = ProposalRules.CheckShape(proposal, _chain.Limits);
        verdict = verdict.IsAccepted ? _checks.CheckProposalSignature(proposal) : verdict;
        verdict = verdict.IsAccepted ? _checks.CheckQc(block.Header.Justify) : verdict;
        verdict = verdict.IsAccepted && proposal.LastRoundTc is { } tc ? _checks.CheckTc(tc) : verdict;
        if (!verdict.IsAccepted)
        {
            Reject(from, verdict.Reason!);
            return;
        }

        _journalGuard?.Heard(block.Header.Proposer, block.Round);

        // The certificates stand whoever sent them: a validator that is behind commits what they prove first, and
        // only then judges the leader of the round, from the chain it has now.
        AdvanceWith(block.Header.Justify, from);
        if (proposal.LastRoundTc is not null)
        {
            AdvanceWith(proposal.LastRoundTc);
        }

        ConsiderFromLeader(proposal, from);
    }

    private void ConsiderFromLeader(Proposal proposal, PeerId from)
    {
        var block = proposal.Block;
        if (block.Round < CurrentRound)
        {
            return;
        }

        var leader = _leaders.LeaderOf(block.Round);
        if (block.Header.Proposer != leader)
        {
            if (_leaders.IsSettled(block.Round))
            {
                Reject(from, $"proposal for round {block.Round} by validator {block.Header.Proposer}; the leader is {leader}");
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

        _suspects.Remove(block.Header.Proposer);
        // Two validators may each propose for one round when they compute its leader from chains committed to
        // different heights; only two proposals by one validator are evidence.
        if (_firstProposalByRound.TryGetValue(block.Round, out var first) && first.Block.Header.Proposer == block.Header.Proposer)
        {
            if (first.Block.Id == block.Id)
            {
                return;
            }

            _effects.Add(new EquivocationDetected(new Equivocation(block.Header.Proposer, block.Round, "two proposals", first, proposal)));

            // Dropping the second proposal also keeps a validator from voting twice.
            if (_safety.VotesOncePerRound)
            {
                return;
            }
        }

        _firstProposalByRound.TryAdd(block.Round, proposal);
        if (!_tree.Contains(block.ParentId))
        {
            _awaitingParent[block.Round] = (proposal, from);
            Fetch(block.ParentId, from);
            return;
        }

        InsertAndVote(proposal, from);
    }

    /// <summary>After each step, as its commits and fetched blocks may have settled the leader or made the proposer plausible.</summary>
    private void RetryAwaitingLeader()
    {
        foreach (var (round, (proposal, from)) in _awaitingLeader.ToList())
        {
            _awaitingLeader.Remove(round);
            ConsiderFromLeader(proposal, from);
        }
    }

    private void InsertAndVote(Proposal proposal, PeerId from)
    {
        var block = proposal.Block;
        var (result, reason) = _tree.TryInsert(block, _isCommitted);
        if (result is InsertResult.Rejected or InsertResult.BelowCommitted)
        {
            Reject(from, reason!);
            return;
        }

        if (result == InsertResult.Inserted)
        {
            _effects.Add(new PersistBlock(block));
        }

        if (!CheckAppHashClaim(block) || !CheckFailedProposers(block, from))
        {
            return;
        }

        if (block.Round != CurrentRound)
        {
            return;
        }

        var timestamp = ProposalRules.CheckTimestamp(block, _chain.Limits, _now);
        if (!timestamp.IsAccepted)
        {
            Reject(from, timestamp.Reason!);
            return;
        }

        if (_journalGuard?.MayVoteIn(block.Round) == false)
        {
            return;
        }

        var decision = _safety.VoteFor(proposal);
        if (decision.Message is not { } vote)
        {
            return;
        }

        // Journaled from here on (the persist effect comes before the vote leaves).
        _journalGuard = null;

        _checks.OwnVote(vote);
        if (decision.StateChanged)
        {
            _effects.Add(new PersistSafetyState(_safety.State));
        }

        // Even a vote for itself goes through the host: handling it here could form a QC, start the next round and
        // propose again within one call, which for a single validator would never return. When the next leader is
        // likely down, every validator gets the vote and forms the QC, so that its round is the only one lost.
        // So it does when this validator is not sure who leads next: other validators may have committed further.
        var next = _leaders.LeaderOf(block.Round + 1);
        if (_suspects.Contains(next) || !_leaders.IsActive(next) || !_leaders.IsSettled(block.Round + 1))
        {
            _effects.Add(new Broadcast(vote));
            _effects.Add(new SendToValidator(_self, vote));
        }
        else
        {
            _effects.Add(new SendToValidator(next, vote));
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

        Reject(from, $"proposal for round {block.Round} names failed proposers [{string.Join(", ", SignerBitmap.Signers(block.Header.FailedProposers))}]; "
            + $"its ancestry makes them [{string.Join(", ", SignerBitmap.Signers(expected))}]");
        return false;
    }

    /// <summary>
    /// A leader states the app hash after the last height it executed. Where this validator has executed that height
    /// too they must agree, or it does not vote; otherwise the claim is checked when it gets there.
    /// </summary>
    private bool CheckAppHashClaim(Block block)
    {
        var height = block.Header.ExecutedHeight;
        var claimed = block.Header.ExecutedAppHash;
        if (height > _store.Height)
        {
            _appHashClaims.TryAdd(height, (claimed, block.Id));
            return true;
        }

        var local = height == 0 ? _chain.GenesisAppHash : _store.AppHashAt(height) ?? claimed;
        if (local == claimed)
        {
            return true;
        }

        _effects.Add(new AppHashDivergence(height, local, claimed, block.Id));
        return false;
    }

    private void OnVote(PeerId from, Vote vote)
    {
        if (vote.Round + 1 < CurrentRound)
        {
            Reject(from, $"stale vote of validator {vote.Voter} for round {vote.Round}; current round is {CurrentRound}");
            return;
        }

        if (vote.Round > CurrentRound + _options.MaxRoundsAhead)
        {
            Reject(from, $"vote of validator {vote.Voter} for round {vote.Round} is too far ahead of round {CurrentRound}");
            return;
        }

        var verdict = _checks.CheckVote(vote);
        if (!verdict.IsAccepted)
        {
            Reject(from, verdict.Reason!);
            return;
        }

        var (qc, evidence) = _votes.Add(vote);
        if (evidence is not null)
        {
            _effects.Add(new EquivocationDetected(evidence));
        }

        if (qc is not null)
        {
            AdvanceWith(qc, from);
        }
    }

    private void OnTimeout(PeerId from, TimeoutVote timeout)
    {
        if (timeout.Round < CurrentRound)
        {
            SyncPeerBehind(from, timeout.Round);
        }

        if (timeout.Round + 1 < CurrentRound)
        {
            return;
        }

        var verdict = _checks.CheckTimeout(timeout);
        if (!verdict.IsAccepted)
        {
            Reject(from, verdict.Reason!);
            return;
        }

        // Only a timeout its certificates place in its round counts: a faulty validator can sign one for any round.
        if (timeout.HighQc.Round + 1 == timeout.Round || timeout.LastRoundTc?.Round + 1 == timeout.Round)
        {
            _journalGuard?.Heard(timeout.Voter, timeout.Round);
        }

        if (timeout.LastRoundTc is { } tc)
        {
            if (tc.Round + 1 != timeout.Round)
            {
                Reject(from, $"timeout of validator {timeout.Voter} for round {timeout.Round} carries a TC of round {tc.Round}");
                return;
            }

            if (tc.Round >= CurrentRound)
            {
                var tcVerdict = _checks.CheckTc(tc);
                if (!tcVerdict.IsAccepted)
                {
                    Reject(from, tcVerdict.Reason!);
                    return;
                }
            }
        }

        AdvanceWith(timeout.HighQc, from);
        if (timeout.LastRoundTc is not null)
        {
            AdvanceWith(timeout.LastRoundTc);
        }

        if (timeout.Round > CurrentRound + _options.MaxRoundsAhead)
        {
            Reject(from, $"timeout of validator {timeout.Voter} for round {timeout.Round} is too far ahead of round {CurrentRound}");
            return;
        }

        AddTimeout(timeout);
    }

    /// <summary>
    /// The sender is in <paramref name="peerRound"/>, below this validator's round: the certificates that brought this
    /// validator here go back to it. Nothing in the message is trusted for that, as the certificates prove themselves,
    /// and one small reply per message a peer sends cannot be turned into a flood.
    /// </summary>
    private void SyncPeerBehind(PeerId from, long peerRound)
    {
        if (from == PeerId.Self || HighQc.Round < peerRound && _lastRoundTc is null)
        {
            return;
        }

        _effects.Add(new Reply(from, new RoundSync(HighQc, _lastRoundTc)));
    }

    private void OnRoundSync(PeerId from, RoundSync sync)
    {
        var tc = sync.LastRoundTc is { } offered && offered.Round >= CurrentRound ? offered : null;
        if (sync.HighQc.Round <= HighQc.Round && tc is null)
        {
            return;
        }

        var verdict = _checks.CheckQc(sync.HighQc);
        verdict = verdict.IsAccepted && tc is not null ? _checks.CheckTc(tc) : verdict;
        if (!verdict.IsAccepted)
        {
            Reject(from, $"round sync: {verdict.Reason}");
            return;
        }

        AdvanceWith(sync.HighQc, from);
        if (tc is not null)
        {
            AdvanceWith(tc);
        }
    }

    private void AddTimeout(TimeoutVote timeout)
    {
        var added = _timeouts.Add(timeout);
        if (added.Evidence is not null)
        {
            _effects.Add(new EquivocationDetected(added.Evidence));
        }

        if (added.ReachedOneHonest && timeout.Round >= CurrentRound && _safety.State.LastTimeout?.Round != timeout.Round)
        {
            if (timeout.Round > CurrentRound)
            {
                EnterRound(timeout.Round, null);
            }

            TimeOut(timeout.Round);
        }

        if (added.Certificate is not null)
        {
            AdvanceWith(added.Certificate);
        }
    }

    private void TimeOut(long round)
    {
        var decision = _safety.TimeoutFor(round, HighQc);
        if (decision.Message is not { } timeout)
        {
            return;
        }

        if (decision.StateChanged)
        {
            _effects.Add(new PersistSafetyState(_safety.State));
        }

        _checks.OwnTimeout(timeout);
        _effects.Add(new Broadcast(_lastRoundTc?.Round + 1 == round ? timeout with { LastRoundTc = _lastRoundTc } : timeout));
        AddTimeout(timeout);
    }

    /// <summary>A verified QC: it may raise the high QC, commit blocks (the two-chain rule) and start the next round.</summary>
    private void AdvanceWith(QuorumCertificate qc, PeerId from)
    {
        if (qc.Round > HighQc.Round)
        {
            HighQc = qc;
        }

        if (_tree.Contains(qc.BlockId))
        {
            Commit(qc);
        }
        else if (qc.Round > _tree.Root.Round)
        {
            Fetch(qc.BlockId, from);
        }

        if (qc.Round >= CurrentRound)
        {
            _consecutiveTimeouts = 0;
            EnterRound(qc.Round + 1, null);
        }
    }

    private void AdvanceWith(TimeoutCertificate tc)
    {
        if (tc.Round >= CurrentRound)
        {
            // The round's leader did not propose here, or it did and the next leader formed no QC from the votes.
            var failed = _firstProposalByRound.TryGetValue(tc.Round, out var proposal) && proposal.Block.Header.Proposer == _leaders.LeaderOf(tc.Round)
                ? _leaders.LeaderOf(tc.Round + 1)
                : _leaders.LeaderOf(tc.Round);
            if (failed != _self)
            {
                _suspects.Add(failed);
            }

            EnterRound(tc.Round + 1, tc);
        }
    }

    private void EnterRound(long round, TimeoutCertificate? viaTc)
    {
        CurrentRound = round;
        _lastRoundTc = viaTc;
        _votes.ForgetBelow(round - 1);
        _timeouts.ForgetBelow(round - 1);
        foreach (var stale in _firstProposalByRound.Keys.Where(r => r < round - 1).ToList())
        {
            _firstProposalByRound.Remove(stale);
        }

        foreach (var stale in _awaitingParent.Keys.Where(r => r < round).ToList())
        {
            _awaitingParent.Remove(stale);
        }

        foreach (var stale in _awaitingLeader.Keys.Where(r => r < round).ToList())
        {
            _awaitingLeader.Remove(stale);
        }

        ArmTimer();
        TryPropose();
    }

    private void ArmTimer()
    {
        // Two waits, not one: a validator that formed or saw the round's QC before the leader proposed (votes sent to
        // everyone) enters the round before this leader's idle wait, and learns the round's QC only from the
        // next leader's proposal, after that leader's wait.
        var idleAllowance = _options.Pacemaker.IdleIntervalMs > 0 && IsIdleAbove(HighQc.BlockId) ? 2 * _options.Pacemaker.IdleIntervalMs : 0;
        // A leader that is likely down gets a quarter of the timer: its round is the one lost, and soon. If it
        // is up after all, its proposal comes in a few message delays, well within that.
        var leader = _leaders.LeaderOf(CurrentRound);
        var timeout = _options.Pacemaker.TimeoutFor(_consecutiveTimeouts);
        if (leader != _self && (_suspects.Contains(leader) || !_leaders.IsActive(leader)))
        {
            timeout = Math.Max(1, timeout / 4);
        }

        _effects.Add(new ArmRoundTimer(CurrentRound, timeout + idleAllowance));
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
        var round = CurrentRound;
        if (_leaders.LeaderOf(round) != _self || _proposedRound >= round || _safety.State.LastVotedRound >= round
            || _journalGuard?.MayVoteIn(round) == false)
        {
            return;
        }

        var needsTc = HighQc.Round + 1 != round;
        if (needsTc && _lastRoundTc?.Round + 1 != round)
        {
            return;
        }

        var parent = _tree.Get(HighQc.BlockId);
        if (parent is null)
        {
            Fetch(HighQc.BlockId, null);
            return;
        }

        var durableLastVotedRound = _safety.State.LastVotedRound;
        var uncommitted = _tree.PathFromRoot(parent);
        var inAncestors = uncommitted.SelectMany(b => b.TransactionHashes).ToHashSet();
        var headerAllowance = 1024 + (64 * _chain.Validators.Count);
        var transactions = _app.ForProposal(
            Mempool.Select(
                _chain.Limits.MaxTransactionsPerBlock,
                _chain.Limits.MaxBlockBytes - headerAllowance,
                hash => inAncestors.Contains(hash) || _isCommitted(hash)),
            uncommitted);
        if (transactions.Count == 0 && _options.Pacemaker.IdleIntervalMs > 0 && _idleWaitOverRound != round
            && _tree.Root.TransactionHashes.Count == 0 && uncommitted.All(b => b.TransactionHashes.Count == 0))
        {
            // Idle chain: nothing to propose and nothing to commit: wait for a transaction, at most the idle interval. The
            // last committed block must be empty too: a leader that has just committed a transaction's block holds
            // the only certificate that proves it, which the others learn from this leader's next proposal.
            if (_idleWaitRound != round)
            {
                _idleWaitRound = round;
                _effects.Add(new ArmRoundTimer(round, _options.Pacemaker.IdleIntervalMs));
            }

            return;
        }

        var block = Block.Create(
            round,
            parent.Height + 1,
            HighQc,
            _self,
            Math.Max(_now, parent.Header.Timestamp + 1),
            transactions,
            _store.Height,
            _app.AppHash,
            _leaders.FailedProposers(parent.Round, round, uncommitted));
        var proposal = new Proposal(block, _key.Sign(_chain.Domain.Proposal(block.Id)), needsTc ? _lastRoundTc : null);
        _proposedRound = round;
        _firstProposalByRound[round] = proposal;

        // A leader that crashes and restarts in this round must not propose a second, different block for it. When
        // its vote or timeout in the round before is durable (every state change before this point is written before
        // the proposal leaves), a restart already keeps it from proposing here (see the constructor), so the proposal
        // leaves at once, ahead of keeping its own block: the leader's block and vote are written while the others
        // write theirs, and no write of the leader's is on the round's critical path. A leader that loses its block
        // in a crash fetches it like any other missing block. Otherwise the proposal waits for the leader's own vote.
        var before = _effects.Count;
        InsertAndVote(proposal, PeerId.Self);
        var persisted = _effects.FindIndex(before, e => e is PersistSafetyState);
        if (persisted >= 0)
        {
            var restartCannotRepropose = durableLastVotedRound >= 1 && durableLastVotedRound + 1 >= round;
            _effects.Insert(restartCannotRepropose ? before : persisted + 1, new Broadcast(proposal));
        }
    }

    private void Commit(QuorumCertificate qc)
    {
        var (committed, abandoned) = _tree.CommitFor(qc);
        for (var i = 0; i < committed.Count; i++)
        {
            var block = committed[i];
            var certificate = i + 1 < committed.Count ? committed[i + 1].Header.Justify : _tree.Get(qc.BlockId)!.Header.Justify;
            var appHash = _app.Execute(block);
            _store.Append(block, certificate, appHash);
            _leaders.Record(block);
            Mempool.RemoveCommitted(block.TransactionHashes);
            if (_appHashClaims.Remove(block.Height, out var claim) && claim.AppHash != appHash)
            {
                _effects.Add(new AppHashDivergence(block.Height, appHash, claim.AppHash, claim.Block));
            }

            _effects.Add(new BlockCommitted(block, appHash));
        }

        if (committed.Count > 0)
        {
            _store.KeepCommitProof(qc);
            _consecutiveTimeouts = 0;
            Mempool.Return(abandoned.SelectMany(b => b.Transactions), _isCommitted);
            foreach (var stale in _appHashClaims.Keys.Where(h => h <= _store.Height).ToList())
            {
                _appHashClaims.Remove(stale);
            }
        }
    }

    private void Fetch(Hash32 blockId, PeerId? from)
    {
        if (_fetcher.Fetch(blockId, from, _store.Height, _now) is { } request)
        {
            _effects.Add(request);
        }
    }

    private void OnBlockRequest(PeerId from, BlockRequest request) =>
        _effects.Add(new Reply(from, BlockServing.Answer(request, _chain.Limits, FindBlock)));

    private Block? FindBlock(Hash32 id) => _tree.Get(id) ?? _store.GetById(id);

    private void OnBlockResponse(PeerId from, BlockResponse response)
    {
        switch (_fetcher.Accept(response, _tree.Root.Height))
        {
            case BlockFetcher.Answer.Unasked:
                return;
            case BlockFetcher.Answer.Broken:
                Reject(from, $"block response for {response.RequestedId.ToShortString()} does not hash-chain from the requested block");
                return;
            default:
                ConnectOrphans(from);
                return;
        }
    }

    private void ConnectOrphans(PeerId from)
    {
        foreach (var block in _fetcher.OrphansInHeightOrder())
        {
            if (block.Height <= _tree.Root.Height)
            {
                _fetcher.RemoveOrphan(block);
                continue;
            }

            var (result, reason) = _tree.TryInsert(block, _isCommitted);
            if (result == InsertResult.MissingParent)
            {
                continue;
            }

            _fetcher.RemoveOrphan(block);
            if (result == InsertResult.Rejected)
            {
                Reject(from, reason!);
                continue;
            }

            if (result == InsertResult.Inserted)
            {
                _effects.Add(new PersistBlock(block));
                AdvanceWith(block.Header.Justify, from);
            }
        }

        if (_fetcher.MissingAncestorOf(HighQc.BlockId, _tree.Contains) is { } missing)
        {
            Fetch(missing, from);
        }

        if (_tree.Contains(HighQc.BlockId))
        {
            Commit(HighQc);
        }

        foreach (var (round, (proposal, proposer)) in _awaitingParent.ToList())
        {
            if (_tree.Contains(proposal.Block.ParentId))
            {
                _awaitingParent.Remove(round);
                InsertAndVote(proposal, proposer);
            }
        }

        TryPropose();
    }

    private void Reject(PeerId from, string reason) => _effects.Add(new MessageRejected(from, reason));
}
