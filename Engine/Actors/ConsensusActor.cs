using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Persistence;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// The voter and proposer: the shell around <see cref="Replica"/>, whose safety rules sign both a leader's proposal
/// and every vote, so one persistent actor owns them. It carries out the replica's effects strictly in order and
/// sends anything that follows a safety-state change only from the journal's persist callback; if the journal
/// fails, the actor stops and nothing after the failed write ever leaves.
/// </summary>
public sealed class ConsensusActor : ReceivePersistentActor
{
    public const string Name = "consensus";
    private const int SnapshotEvery = 1_000;

    // The proposal queue holds up to this many blocks' worth: the blocks a proposal extends keep theirs until they
    // commit, and the next block needs a full one besides.
    private const int QueuedBlocks = 4;
    private const long RepullAfterMs = 1_000;

    private readonly ConsensusActorSetup _setup;
    private readonly VerdictsComputedHere _verifier;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly EpochSchedule _epochs;
    private SafetyState _recovered;
    private Replica? _replica;
    private EpochEnded? _ended;
    private Hash32 _lastBlockId;
    private long _lastBlockTimestamp;
    private long _committedTransactions;
    private long _rejectedMessages;
    private string _lastRejection = "";
    private int _peersConnected;
    private bool _pullSent;
    private long _pullSentAt;
    private int _setsKept;
    private readonly List<Hash32> _givenUp = [];
    private readonly List<Hash32> _noRoom = [];

    public ConsensusActor(ConsensusActorSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        _setup = setup;
        _verifier = new VerdictsComputedHere(setup.Verifier);
        _recovered = SafetyState.Initial(setup.Chain);
        _epochs = new EpochSchedule(setup.Chain, setup.ScheduledEpochs);
        KeepScheduledSets();
        PersistenceId = $"consensus-{setup.Chain.GenesisBlock.Id.ToShortString()}-{(setup.Validator >= 0 ? setup.Validator : setup.Key.PublicKey.ToString()[..16])}";

        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is SafetyStateRecorded recorded)
            {
                _recovered = recorded.State;
            }
        });
        Recover<SafetyStateRecorded>(recorded => _recovered = recorded.State);
        Recover<RecoveryCompleted>(_ => StartReplica(_recovered, null, []));

        Command<Inbound>(inbound => Step(replica => replica.OnMessage(inbound.From, inbound.Message, _setup.ClockMs())));
        Command<PacemakerActor.RoundTimerFired>(fired => Step(replica => replica.OnTimer(fired.Round, _setup.ClockMs())));
        Command<MempoolActor.Offer>(OnOffer);
        Command<Executed>(OnExecuted);
        Command<StatusQuery>(_ => Sender.Tell(Status()));
        Command<MetricsQuery>(_ => Sender.Tell(new MetricsReply(Status(), _replica?.Counters, _setup.Verifier.Hits, _replica?.Leaders.Weights())));
        Command<EpochsQuery>(_ => Sender.Tell(new EpochsReply([.. _epochs.All])));
        Command<PeerDirectory.PeersChanged>(changed => _peersConnected = changed.Connected);
        Command<SaveSnapshotSuccess>(success =>
        {
            DeleteMessages(success.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(success.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(failure => _log.Warning("Snapshot of the safety state failed; the journal keeps every event instead: {0}", failure.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(failure => _log.Warning("Old journal events could not be deleted: {0}", failure.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(_ => { });
    }

    public override string PersistenceId { get; }

    private Replica Replica => _replica ?? throw new InvalidOperationException("The replica starts when recovery completes.");

    public static Props Props(ConsensusActorSetup setup) =>
        global::Akka.Actor.Props.Create(() => new ConsensusActor(setup)).WithDispatcher("idos.consensus-dispatcher");

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "The journal could not record the safety state (sequence {0}); this validator stops rather than vote without it.", sequenceNr);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "The journal rejected the safety state (sequence {0}); this validator stops rather than vote without it.", sequenceNr);
        Context.Stop(Self);
    }

    protected override void OnRecoveryFailure(Exception reason, object? message = null)
    {
        _log.Error(reason, "The safety state could not be recovered from the journal; refusing to vote from a blank state.");
        base.OnRecoveryFailure(reason, message);
    }

    /// <summary>
    /// Starts the replica of the epoch the committed chain is in: after recovery, or when the last epoch ended here
    /// (<paramref name="ended"/>), with the transactions its proposal queue held. A validator whose key has no vote in
    /// that epoch follows the chain as an observer, signing nothing: it may join in a later epoch, or have been removed.
    /// </summary>
    private void StartReplica(SafetyState safety, EpochEnded? ended, IReadOnlyList<byte[]> carried)
    {
        var store = _setup.Store;
        var epoch = _epochs.EpochAfter(store.Height);
        var chain = _epochs.Chain(epoch);
        var index = _epochs.IndexOf(epoch, _setup.Key.PublicKey);
        var last = store.Height == 0 ? _setup.Chain.GenesisBlock : store.GetByHeight(store.Height)!;
        _lastBlockId = last.Id;
        _lastBlockTimestamp = last.Header.Timestamp;
        _committedTransactions = store.TransactionCount();
        _setup.Directory.Tell(new PeerDirectory.EpochChanged(chain, Admitted(epoch), Contacts(epoch)));
        if (index < 0)
        {
            _log.Warning("This validator's key {0} has no vote in epoch {1} (from height {2}): from height {3} it follows the chain without voting{4}.",
                _setup.Key.PublicKey, epoch, _epochs[epoch].StartHeight, store.Height,
                _epochs.KeysFrom(epoch + 1).Contains(_setup.Key.PublicKey) ? ", until the epoch it joins in" : "");
            index = ObserverRules.Index;
        }

        if (safety.Epoch < epoch)
        {
            // A crash between the last commit of an epoch and the opening of the next.
            safety = SafetyState.OpeningEpoch(epoch, store.CertificateAt(_epochs[epoch].StartHeight - 1)!, safety.LastVotedRound);
        }

        var start = _epochs[epoch].StartHeight;
        var replicaEpoch = epoch == 0 ? null
            : new ReplicaEpoch(start, _epochs.Chain(epoch - 1), store.EpochProofOf(epoch - 1) is { } proof && proof.LastHeight == start - 1 ? proof : null,
                Opening: ended is not null);
        var replica = new Replica(chain, index, _setup.Key, _verifier, store, safety, ended is null ? store.KeptBlocks() : [], _setup.Options, replicaEpoch);
        if (_epochs.Next(epoch) is { } next)
        {
            replica.Epoch.EndBefore(next);
        }

        _replica = replica;
        _log.Info("Validator {0} {1} epoch {2} as {3} at height {4}, round {5} (last voted round {6}).",
            [_setup.Key.PublicKey.ToString()[..16], ended is null ? "resumes in" : "opens", epoch,
            index >= 0 ? $"validator {index} of {chain.Validators.Count}" : $"an observer of {chain.Validators.Count} validators", store.Height, replica.CurrentRound,
            safety.LastVotedRound]);
        replica.SubmitTransactions(carried);
        Step(replica => replica.Start(_setup.ClockMs()));
    }

    /// <summary>
    /// The validators this one talks to in <paramref name="epoch"/>: its set's, the sets scheduled after it, and the
    /// last one's, whose validators may have missed how it ended (a removed one learns so, and stops voting). Those of
    /// earlier epochs are cut off.
    /// </summary>
    private IReadOnlySet<Crypto.Ed25519PublicKey> Admitted(long epoch) => _epochs.KeysFrom(epoch - 1);

    /// <summary>How to reach the validators of <see cref="Admitted"/> that joined by governance.</summary>
    private Dictionary<Crypto.Ed25519PublicKey, ValidatorContact> Contacts(long epoch)
    {
        var admitted = Admitted(epoch);
        var contacts = new Dictionary<Crypto.Ed25519PublicKey, ValidatorContact>();
        for (var e = Math.Max(0, epoch - 1); e < _epochs.Count; e++)
        {
            foreach (var (key, contact) in _epochs[e].Contacts.Where(c => admitted.Contains(c.Key)))
            {
                contacts[key] = contact;
            }
        }

        return contacts;
    }

    /// <summary>
    /// The block store keeps each later epoch's set beside the proof of the epoch before's end, which it serves with
    /// headers to nodes that follow the chain by them (state sync); the executed state is where the sets come from.
    /// </summary>
    private void KeepScheduledSets()
    {
        for (; _setsKept < _epochs.Count; _setsKept++)
        {
            if (_setsKept > 0)
            {
                _setup.Store.KeepEpochSet(_setsKept, _epochs.Chain(_setsKept).Validators);
            }
        }
    }

    private void OnExecuted(Executed executed)
    {
        foreach (var scheduled in executed.Scheduled ?? [])
        {
            if (scheduled.Epoch >= _epochs.Count)
            {
                _epochs.Add(scheduled);
                _log.Info("Epoch {0} of {1} validators is scheduled from height {2} (decided at height {3}).",
                    scheduled.Epoch, scheduled.Validators.Count, scheduled.StartHeight, scheduled.DecidedHeight);
                var current = _replica?.Epoch.Epoch ?? _epochs.EpochAfter(_setup.Store.Height);
                _setup.Directory.Tell(new PeerDirectory.EpochScheduled(Admitted(current), Contacts(current)));
                KeepScheduledSets();
            }
        }

        Step(replica => replica.OnExecuted(executed.Height, executed.AppHash, _setup.ClockMs(), _epochs.Next(replica.Epoch.Epoch)));
    }

    /// <summary>
    /// The last replica's epoch ended with a block committed here: the next one opens once the journal holds its
    /// opening state (its signatures name the new epoch; only the rounds it signed in carry over).
    /// </summary>
    private void OpenNextEpoch(EpochEnded ended)
    {
        var old = Replica;
        var opening = SafetyState.OpeningEpoch(ended.Epoch + 1, _setup.Store.CertificateAt(_setup.Store.Height)!, old.SafetyState.LastVotedRound);
        List<byte[]> carried = [.. old.Mempool.Pending];
        _replica = null;
        _log.Info("Epoch {0} ended with block {1} at height {2}.", ended.Epoch, ended.LastBlock.Id.ToShortString(), ended.LastBlock.Height);
        Persist(new SafetyStateRecorded(opening), recorded => StartReplica(recorded.State, ended, carried));
    }

    /// <summary>
    /// Queues what the mempool actor offered for proposals, tells it next time what did not go in, and wakes a
    /// leader waiting on an idle chain.
    /// </summary>
    private void OnOffer(MempoolActor.Offer offer)
    {
        if (_replica is null)
        {
            return;
        }

        _pullSent = false;
        _givenUp.Clear();
        _noRoom.Clear();
        var outcomes = Replica.SubmitTransactions(offer.Transactions, offer.Hashes);
        var added = false;
        foreach (var outcome in outcomes)
        {
            switch (outcome.Status)
            {
                case MempoolAddStatus.Added:
                    added = true;
                    break;
                case MempoolAddStatus.Duplicate:
                    _givenUp.Add(outcome.Hash);
                    break;
                default:
                    _noRoom.Add(outcome.Hash);
                    break;
            }
        }

        // Only a leader resting on an idle chain has anything to do about new transactions: spare the others a step.
        if (added && Replica.IsWaitingToPropose)
        {
            Step(replica => replica.OnTransactionsAdded(_setup.ClockMs()));
        }
        else
        {
            PullIfRoom();
        }
    }

    /// <summary>
    /// Asks the mempool actor for transactions when the proposal queue has room and no request is open, or asks again
    /// when one has gone unanswered for a while (it may have been dropped from a full mailbox; asking again is
    /// harmless, and carries what the lost request said about the last offer).
    /// </summary>
    private void PullIfRoom()
    {
        var now = _setup.ClockMs();
        if (_replica is null || (_pullSent && now - _pullSentAt < RepullAfterMs))
        {
            return;
        }

        var limits = _setup.Chain.Limits;
        var room = (QueuedBlocks * limits.MaxTransactionsPerBlock) - Replica.Mempool.Count;
        var roomBytes = (QueuedBlocks * (long)limits.MaxBlockBytes) - Replica.Mempool.Bytes;
        if (room <= 0 || roomBytes <= 0)
        {
            return;
        }

        _setup.Mempool.Tell(new MempoolActor.Pull(room, roomBytes, [.. _givenUp], [.. _noRoom]));
        (_pullSent, _pullSentAt) = (true, now);
    }

    /// <summary>
    /// Runs one replica step and carries out its effects. The blocks the step commits (the replica appends them as it
    /// goes) and the blocks it keeps before its first safety-state write reach the block store in one transaction,
    /// one fsync instead of one per write. Messages the replica put before its first write wait for nothing it writes
    /// (a leader's proposal that may leave ahead of its own block); everything else waits for that transaction.
    /// </summary>
    private void Step(Func<Replica, IReadOnlyList<ReplicaEffect>> step)
    {
        if (_replica is not { } replica)
        {
            return;
        }

        IReadOnlyList<ReplicaEffect> effects;
        int sentAhead;
        using (var writes = _setup.Store.BeginBatch())
        {
            effects = step(replica);
            sentAhead = SendAheadOfWrites(effects);
            KeepBlocks(effects, 0, PersistIndex(effects, 0));
            writes.Commit();
        }

        Carry(effects, 0, blocksKept: true, sentAhead);
        PullIfRoom();
    }

    /// <summary>Sends the messages that come before the step's first write; returns how many effects that covered.</summary>
    private int SendAheadOfWrites(IReadOnlyList<ReplicaEffect> effects)
    {
        var end = 0;
        while (end < effects.Count && effects[end] is not (PersistBlock or PersistSafetyState))
        {
            end++;
        }

        for (var i = 0; i < end; i++)
        {
            if (IsMessage(effects[i]))
            {
                CarryOut(effects[i]);
            }
        }

        return end;
    }

    private static bool IsMessage(ReplicaEffect effect) => effect is Broadcast or SendToValidator or Reply;

    /// <summary>
    /// Carries out effects from <paramref name="start"/> on, except the messages among the first <paramref name="sentAhead"/>;
    /// a safety-state write suspends the rest until the journal confirms it.
    /// </summary>
    private void Carry(IReadOnlyList<ReplicaEffect> effects, int start, bool blocksKept, int sentAhead = 0)
    {
        var persistAt = PersistIndex(effects, start);
        if (!blocksKept)
        {
            using var writes = _setup.Store.BeginBatch();
            KeepBlocks(effects, start, persistAt);
            writes.Commit();
        }

        for (var i = start; i < persistAt; i++)
        {
            if (effects[i] is not PersistBlock && !(i < sentAhead && IsMessage(effects[i])))
            {
                CarryOut(effects[i]);
            }
        }

        if (persistAt == effects.Count)
        {
            if (_ended is { } ended)
            {
                _ended = null;
                OpenNextEpoch(ended);
            }

            return;
        }

        var state = ((PersistSafetyState)effects[persistAt]).State;
        var asked = Stopwatch.GetTimestamp();
        Persist(new SafetyStateRecorded(state), recorded =>
        {
            _setup.Health.Metrics?.JournalWrite.Observe(Stopwatch.GetElapsedTime(asked).TotalSeconds);
            ExitIfFaultPointReached(recorded.State);
            if (LastSequenceNr % SnapshotEvery == 0)
            {
                SaveSnapshot(recorded);
            }

            Carry(effects, persistAt + 1, blocksKept: false);
        });
    }

    private static int PersistIndex(IReadOnlyList<ReplicaEffect> effects, int start)
    {
        var index = start;
        while (index < effects.Count && effects[index] is not PersistSafetyState)
        {
            index++;
        }

        return index;
    }

    private void KeepBlocks(IReadOnlyList<ReplicaEffect> effects, int start, int end)
    {
        for (var i = start; i < end; i++)
        {
            if (effects[i] is PersistBlock keep)
            {
                _setup.Store.Keep(keep.Block);
            }
        }
    }

    private void CarryOut(ReplicaEffect effect)
    {
        switch (effect)
        {
            case Broadcast broadcast:
                _setup.Directory.Tell(new PeerDirectory.ToAll(broadcast.Message));
                break;
            case SendToValidator send:
                SendTo(send.Validator, send.Message);
                break;
            case Reply reply:
                SendTo(reply.Peer.Value, reply.Message);
                break;
            case ArmRoundTimer arm:
                _setup.Pacemaker.Tell(new PacemakerActor.Arm(arm.Round, arm.DelayMs));
                break;
            case BlockCommitted committed:
                _lastBlockId = committed.Block.Id;
                _lastBlockTimestamp = committed.Block.Header.Timestamp;
                _committedTransactions += committed.Block.TransactionHashes.Count;
                _setup.Executor.Tell(new ExecutorActor.ExecuteBlock(committed.Block));
                Context.System.EventStream.Publish(new BlockCommittedNotice(committed.Block.Height, committed.Block.Id,
                    committed.Block.Round, committed.Block.TransactionHashes, committed.Block.Header.Timestamp,
                    CommittedBlock.UnixMicrosecondsNow(), committed.Block.EncodedSize));
                break;
            case BlockExecuted executed:
                Context.System.EventStream.Publish(new BlockExecutedNotice(executed.Block.Height, executed.Block.TransactionHashes));
                break;
            case MessageRejected rejected:
                _rejectedMessages++;
                _lastRejection = $"from validator {rejected.From.Value}: {rejected.Reason}";
                _log.Debug("Dropped a message from validator {0}: {1}", rejected.From.Value, rejected.Reason);
                break;
            case EquivocationDetected equivocation:
                _log.Warning("Equivocation by validator {0} in round {1}: {2}",
                    equivocation.Evidence.Validator, equivocation.Evidence.Round, equivocation.Evidence.Kind);
                break;
            case AppHashDivergence divergence:
                _log.Error("App hash divergence at height {0}: this validator computed {1}, block {2} claims {3}.",
                    divergence.Height, divergence.Local, divergence.ClaimingBlock.ToShortString(), divergence.Claimed);
                break;
            case EpochEnded ended:
                // The replica that ended does nothing more; the next opens once this step's effects are all carried out.
                _ended = ended;
                break;
            case CatchUpNeedsSnapshot pruned:
                _log.Error("This validator cannot catch up by blocks: every peer has pruned the body of block {0} (bodies are pruned up to {1}). " +
                    "Stop it and start it again from an empty data folder, to sync from a state snapshot.", pruned.NextHeight, pruned.PrunedHeight);
                break;
            default:
                throw new InvalidOperationException($"No handler for the replica effect {effect.GetType().Name}.");
        }
    }

    /// <summary>A vote for itself goes round the mailbox like any other, so that handling it never re-enters the replica.</summary>
    private void SendTo(int validator, ConsensusMessage message)
    {
        if (validator == _setup.Validator)
        {
            Self.Tell(new Inbound(new PeerId(validator), message));
        }
        else
        {
            _setup.Directory.Tell(new PeerDirectory.ToValidator(validator, message));
        }
    }

    /// <summary>
    /// The crash-safety test's fault point: die like kill -9 after the vote is durable and before it is sent, to show
    /// that the restarted validator re-sends that vote and never signs a different one for the round.
    /// </summary>
    private void ExitIfFaultPointReached(SafetyState state)
    {
        if (_setup.ExitAfterPersistingVoteInRound > 0 && state.LastVote is { } vote && vote.Round >= _setup.ExitAfterPersistingVoteInRound
            && state.LastVotedRound == vote.Round && (state.LastTimeout?.Round ?? 0) < vote.Round)
        {
            Console.Error.WriteLine($"fault point: exiting after persisting the vote for round {vote.Round}, block {vote.BlockId}, before sending it");
            Console.Error.Flush();
            Process.GetCurrentProcess().Kill();
        }
    }

    private NodeStatus Status()
    {
        var store = _setup.Store;
        var epoch = _replica?.Epoch.Epoch ?? _epochs.EpochAfter(store.Height);
        var (height, voting) = (_replica?.CommittedHeight ?? store.Height, _replica is not null && _epochs.IndexOf(epoch, _setup.Key.PublicKey) >= 0);
        var networkHeight = Math.Max(height, _setup.Health.Head.Height);
        return new NodeStatus(
            _setup.Validator >= 0 ? _setup.Validator : ValidatorSet.MaxValidators,
            height,
            _replica?.CurrentRound ?? 0,
            _lastBlockId,
            _committedTransactions,
            _setup.MempoolCounters?.Pending ?? _replica?.Mempool.Count ?? 0,
            _peersConnected,
            _rejectedMessages,
            _lastRejection,
            _setup.Chain.ChainId,
            _replica?.ExecutedAppHash ?? store.AppHashAt(store.ExecutedHeight) ?? _setup.Chain.GenesisAppHash,
            _lastBlockTimestamp,
            _verifier.Computed,
            _setup.Sync?.BytesServed ?? 0,
            _setup.Sync?.OverLimit ?? 0,
            _replica?.ExecutedHeight ?? store.ExecutedHeight,
            _replica?.Counters.ProposalsHeldForExecution ?? 0)
        {
            Epoch = epoch,
            SetSize = _epochs[epoch].Validators.Count,
            Voting = voting,
            NetworkHeight = networkHeight,
            Unhealthy = _setup.Health.Judge.Problem(_peersConnected, _epochs[epoch].Validators.Count, voting, height, networkHeight) ?? "",
            Syncing = _setup.Health.Judge.IsSyncing(height, networkHeight),
            Leader = _replica?.Leaders.LeaderOf(_replica.CurrentRound) ?? -1,
        };
    }

    /// <summary>The shared cache as the replica sees it, counting the verdicts that were not ready.</summary>
    private sealed class VerdictsComputedHere(VerifiedSignatureCache cache) : ISignatureVerifier
    {
        public long Computed { get; private set; }

        public bool Verify(Ed25519PublicKey key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
        {
            var verdict = cache.Verify(key, message, signature, out var computed);
            Computed += computed ? 1 : 0;
            return verdict;
        }
    }

    /// <summary>A consensus message from a validator whose hello the peer directory accepted (or from this one).</summary>
    public sealed record Inbound(PeerId From, ConsensusMessage Message);

    /// <summary>For a metrics scrape: the status, the replica's counters, the signature cache's hits, the leader weights (in-process only).</summary>
    public sealed record MetricsQuery;

    public sealed record MetricsReply(NodeStatus Status, ReplicaCounters? Counters, long SignatureCacheHits, long[]? LeaderWeights);

    /// <summary>For the admin service: every validator set so far (in-process only).</summary>
    public sealed record EpochsQuery;

    public sealed record EpochsReply(IReadOnlyList<ScheduledEpoch> Epochs);

    /// <summary>
    /// From the executor: the app hash after the committed block at <paramref name="Height"/>, and every set the
    /// state has scheduled when that block scheduled one.
    /// </summary>
    public sealed record Executed(long Height, Hash32 AppHash, IReadOnlyList<ScheduledEpoch>? Scheduled = null);
}
