using System.Security.Cryptography;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Simulation;

/// <summary>What one seed's world did.</summary>
public sealed record SimulationResult(
    ulong Seed,
    IReadOnlyList<SimViolation> Violations,
    long CommittedHeight,
    long? RoundsToCommitAfterGst,
    int LivenessBound,
    long Events,
    long VirtualTimeMs,
    int Evidence,
    int Rejected,
    string EventLogHash,
    ThroughputFigures? Throughput = null);

/// <summary>
/// A whole validator network in one thread over virtual time: the event loop that runs the instances' replicas and
/// carries out their effects, over <see cref="SimNetwork"/>, with <see cref="SimFaults"/> and, for Byzantine instances,
/// the <see cref="Coalition"/>. Every source of nondeterminism (delays, drops, partitions, crashes, client load,
/// Byzantine choices) is drawn from one seeded generator, and instances exchange the same encoded bytes the wire will
/// carry, so a seed replays exactly and its event log hashes the same. The network addresses instances, not
/// identities: twins are two instances of one validator.
/// </summary>
public sealed class SimWorld : IAdversaryWorld
{
    private const long GenesisTimeMs = 1_700_000_000_000;
    private const long NoProgressLimitMs = 900_000;
    private const long MaxEvents = 5_000_000;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, Ed25519PrivateKey> Keys = new();

    private readonly WorldConfig _config;
    private readonly int _livenessBound;
    private readonly ulong _seed;
    private readonly SimRandom _rng;
    private readonly TextWriter? _trace;
    private readonly ChainParameters _chain;
    private readonly VerifiedSignatureCache _verifier = new(Ed25519Verifier.Instance, capacity: 1 << 16);
    private readonly List<SimInstance> _instances = [];
    private readonly PriorityQueue<SimEvent, (long Time, long Sequence)> _queue = new();
    private readonly InvariantChecker _checker = new();
    private readonly EventLog _eventLog = new();
    private readonly SimNetwork _network;
    private readonly SimFaults _faults;
    private readonly SimExecution _execution;
    private readonly SimEpochs _epochs;
    private readonly Coalition _coalition;
    private long _now;
    private long _sequence;
    private long _events;
    private long _transactionCounter;
    private int _evidence;
    private int _rejected;
    private long _healedAt = -1;
    private long _roundAtGst;
    private long _catchUpRounds;
    private long? _roundsToCommitAfterGst;
    private bool _done;
    private readonly ThroughputMeter? _meter;
    private readonly SimInstance? _observer;
    private readonly SimInstance? _flapper;
    private readonly FlakyLinks? _flakyLinks;

    public SimWorld(WorldConfig config, ulong seed, SimRandom rng, TextWriter? trace = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        _config = config;
        _seed = seed;
        _rng = rng;
        _trace = trace;

        var keys = Enumerable.Range(0, config.Validators).Select(ValidatorKey).ToArray();
        var schedule = config.FaultyLeaderRuns ? Scenario.DrawLeaderSchedule(config.Validators, config.Roles, _rng) : null;
        _livenessBound = Scenario.LivenessBound(config.Validators, schedule, config.Roles);
        _chain = new ChainParameters($"sim-{seed}", new ValidatorSet([.. keys.Select(k => k.PublicKey)], schedule), GenesisTimeMs,
            leaderReputation: config.LeaderReputation ? LeaderReputationPolicy.For(config.Validators) : null);
        for (var validator = 0; validator < config.Validators; validator++)
        {
            var copies = config.Roles[validator] == NodeRole.Twin ? 2 : 1;
            for (var copy = 0; copy < copies; copy++)
            {
                _instances.Add(new SimInstance(_instances.Count, validator, config.Roles[validator], keys[validator],
                    _rng.Between(-config.ClockSkewMaxMs, config.ClockSkewMaxMs)));
            }
        }

        if (config.BadClocks > 0)
        {
            var correct = _instances.Where(i => i.Role == NodeRole.Correct).ToList();
            _rng.Shuffle(correct);
            foreach (var instance in correct.Take(config.BadClocks))
            {
                instance.ClockSkewMs = (_rng.Chance(0.5) ? 1 : -1) * _rng.Between(2_500, 10_000);
            }
        }

        if (config.FlapDownMs > 0)
        {
            _flapper = _rng.Pick(_instances.Where(i => i.Role == NodeRole.Correct).ToList());
        }

        if (config.FlakyLinkDownMs > 0)
        {
            _flakyLinks = new FlakyLinks(_rng.Fork(), _rng.Pick(_instances.Where(i => i.Role == NodeRole.Correct).ToList()).Id,
                config.FlakyLinkDownMs, config.FlakyLinkUpMs);
        }

        if (config.MeasureFromHeight > 0)
        {
            _meter = new ThroughputMeter(config.MeasureFromHeight);
            _observer = _instances.First(i => i.Role == NodeRole.Correct && i != _flapper && i.Id != _flakyLinks?.Instance);
        }

        _network = new SimNetwork(config, _rng, _instances, _flakyLinks, () => _now, Schedule);
        _faults = new SimFaults(config, _rng, _instances, _network, _meter, () => _now, Schedule, Restart, Trace);
        _coalition = new Coalition(this);
        _epochs = new SimEpochs(_chain, config.EpochChanges);
        // Execution times come from a stream of their own, so that the rest of a seed's world is drawn as before.
        _execution = new SimExecution(config, _chain, new SimRandom(seed ^ 0x65786563757465), _checker, () => _now, Schedule, Execute, LocalTime, Trace,
            _epochs.DecidedAt);
    }

    /// <summary>The validators' keys are a function of their index alone, so every world of n validators shares them.</summary>
    public static Ed25519PrivateKey ValidatorKey(int index) => Keys.GetOrAdd(index, static i =>
        Ed25519PrivateKey.FromSeed(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"idos-akka/sim-validator/{i}"))));

    public SimulationResult Run()
    {
        foreach (var instance in _instances.Where(i => i.Role != NodeRole.Silent))
        {
            Restart(instance);
        }

        Schedule(0, new SimEvent(EventKind.ClientTransaction, -1));
        if (_config.Partitions == PartitionMode.Random)
        {
            Schedule(0, new SimEvent(EventKind.PartitionChange, -1));
        }

        if (_config.CrashEveryMs > 0)
        {
            Schedule((long)_rng.Exponential(_config.CrashEveryMs), new SimEvent(EventKind.Crash, -1));
        }

        if (_config.Partitions != PartitionMode.PerRound)
        {
            Schedule(_config.GstMs, new SimEvent(EventKind.Gst, -1));
        }

        if (_flapper is not null)
        {
            Schedule(_config.FlapUpMs, new SimEvent(EventKind.Flap, _flapper.Id));
        }

        while (!_done && _queue.TryDequeue(out var next, out var key))
        {
            _now = key.Time;
            _events++;
            _eventLog.Event(_now, next);
            Process(next);
            CheckProgress();
        }

        var throughput = _meter?.Figures;
        if (throughput is not null && (throughput.BlocksPerRound < _config.MinBlocksPerRound || throughput.LostTimeShare > _config.MaxLostTimeShare
            || throughput.SkippedRounds > _config.MaxSkippedRoundsPerCrash * Math.Max(1, throughput.Crashes)))
        {
            _checker.Add(ViolationKind.Throughput, _now,
                $"{throughput}; the bounds are {_config.MinBlocksPerRound} blocks/round, {_config.MaxLostTimeShare:P0} of the time lost " +
                $"and {_config.MaxSkippedRoundsPerCrash} rounds skipped per crash");
        }

        var committed = _instances.Where(i => i.Role == NodeRole.Correct).Select(i => i.Store.Height).DefaultIfEmpty(0).Min();
        var eventLogHash = _eventLog.Finish();
        return new SimulationResult(_seed, _checker.Violations, committed, _roundsToCommitAfterGst, _livenessBound, _events, _now, _evidence,
            _rejected, eventLogHash, throughput);
    }

    private void Process(SimEvent e)
    {
        switch (e.Kind)
        {
            case EventKind.Deliver:
                Deliver(_instances[e.Instance], e.From, e.Payload!);
                break;
            case EventKind.Timer:
                var instance = _instances[e.Instance];
                if (instance.Replica is { } replica && e.Generation == instance.TimerGeneration)
                {
                    Execute(instance, () => replica.OnTimer(e.Round, LocalTime(instance)));
                }

                break;
            case EventKind.ClientTransaction:
                SubmitTransaction();
                Schedule(_now + Math.Max(1, (long)(_config.TransactionIntervalMs * _rng.Between(0.5, 1.5))), e);
                break;
            case EventKind.PartitionChange:
                if (!_network.Healed)
                {
                    _network.Repartition();
                    Schedule(_now + _rng.Between(500, 4_000), e);
                }

                break;
            case EventKind.Crash:
                _faults.CrashSomeone();
                break;
            case EventKind.Restart:
                if (_instances[e.Instance].Replica is null)
                {
                    Restart(_instances[e.Instance]);
                }
                else
                {
                    // An armed crash that never found a step to cut short is called off with its restart.
                    _instances[e.Instance].CrashAfterEffects = null;
                }

                break;
            case EventKind.Flap:
                _faults.Flap(_instances[e.Instance]);
                break;
            case EventKind.Execute:
                _execution.Run(_instances[e.Instance], e.Generation);
                break;
            case EventKind.Gst:
                foreach (var each in _instances)
                {
                    each.CrashAfterEffects = null;
                    if (each.Replica is null && each.Role != NodeRole.Silent)
                    {
                        Restart(each);
                    }
                }

                Heal();
                break;
            default:
                throw new InvalidOperationException($"unknown event {e.Kind}");
        }
    }

    private void Deliver(SimInstance to, int from, byte[] payload)
    {
        if (to.Replica is not { } replica)
        {
            return;
        }

        if (!ConsensusCodec.TryDecode(payload, _chain.Limits, out var message, out var error))
        {
            _rejected++;
            Trace($"{to} drops undecodable bytes from {from}: {error}");
            return;
        }

        if (to.Role != NodeRole.Correct && to.Role != NodeRole.Twin)
        {
            _coalition.Observe(message);
        }

        Execute(to, () => replica.OnMessage(new PeerId(from), message, LocalTime(to)));
    }

    /// <summary>Runs one replica handler and carries out its effects in order, unless a crash was armed to cut them short.</summary>
    private void Execute(SimInstance instance, Func<IReadOnlyList<ReplicaEffect>> handler)
    {
        IReadOnlyList<ReplicaEffect> effects;
        try
        {
            effects = handler();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _checker.Add(ViolationKind.Exception, _now, $"{instance}: {e}");
            _done = true;
            return;
        }

        for (var i = 0; i < effects.Count; i++)
        {
            if (instance.CrashAfterEffects == i)
            {
                Trace($"{instance} crashes after {i} of {effects.Count} effects");
                SimFaults.Crash(instance);
                return;
            }

            if (instance.Role is NodeRole.EquivocatingLeader or NodeRole.RogueVoter)
            {
                _coalition.Execute(instance, effects[i]);
            }
            else
            {
                ExecuteEffect(instance, effects[i]);
            }
        }

        instance.CrashAfterEffects = null;
    }

    private void ExecuteEffect(SimInstance instance, ReplicaEffect effect)
    {
        switch (effect)
        {
            case PersistSafetyState persist:
                instance.SafetyState = ConsensusCodec.EncodeSafetyState(persist.State);
                break;
            case PersistBlock persist:
                instance.PendingBlocks[persist.Block.Id] = persist.Block;
                break;
            case Broadcast broadcast:
                Trace($"{instance} broadcasts {EventLog.Describe(broadcast.Message)}");
                RecordSigned(instance, broadcast.Message);
                _network.SendToAll(instance, broadcast.Message, _instances.Where(i => i.Id != instance.Id));
                break;
            case SendToValidator send:
                Trace($"{instance} sends validator {send.Validator} {EventLog.Describe(send.Message)}");
                RecordSigned(instance, send.Message);
                var addressee = (instance.Chain ?? _chain).Validators[send.Validator];
                _network.SendToAll(instance, send.Message, _instances.Where(i => i.Key.PublicKey.Equals(addressee)));
                break;
            case Reply reply:
                Trace($"{instance} replies to instance {reply.Peer.Value}: {EventLog.Describe(reply.Message)}");
                if (reply.Peer.Value >= 0 && reply.Peer.Value < _instances.Count)
                {
                    _network.SendToAll(instance, reply.Message, [_instances[reply.Peer.Value]]);
                }

                break;
            case ArmRoundTimer timer:
                Trace($"{instance} arms round {timer.Round} timer for {timer.DelayMs} ms");
                instance.TimerGeneration++;
                Schedule(_now + timer.DelayMs, new SimEvent(EventKind.Timer, instance.Id, Round: timer.Round, Generation: instance.TimerGeneration));
                break;
            case BlockCommitted committed:
                OnCommitted(instance, committed);
                _execution.OnCommitted(instance, committed.Block);
                break;
            case BlockExecuted:
                break;
            case MessageRejected rejected:
                _rejected++;
                Trace($"{instance} rejects a message from {rejected.From.Value}: {rejected.Reason}");
                break;
            case EquivocationDetected detected:
                _evidence++;
                Trace($"{instance} detects {detected.Evidence}");
                break;
            case EpochEnded ended:
                Trace($"{instance} ends epoch {ended.Epoch} at h{ended.LastBlock.Height}");
                OpenNextEpoch(instance, ended);
                break;
            case CatchUpNeedsSnapshot pruned:
                Trace($"{instance} cannot catch up past h{pruned.NextHeight}: pruned everywhere up to h{pruned.PrunedHeight}");
                break;
            case AppHashDivergence divergence:
                if (instance.Role == NodeRole.Correct)
                {
                    _checker.Add(ViolationKind.Divergence, _now,
                        $"{instance}: height {divergence.Height} app hash {divergence.Local.ToShortString()}, leader claimed {divergence.Claimed.ToShortString()}");
                }

                break;
            default:
                throw new InvalidOperationException($"unknown effect {effect.GetType().Name}");
        }
    }

    private void OnCommitted(SimInstance instance, BlockCommitted committed)
    {
        _eventLog.Commit(instance, committed.Block);
        if (instance == _observer)
        {
            _meter!.OnCommit(committed.Block.Height, committed.Block.Round, committed.Block.Header.Timestamp);
        }

        Trace($"{instance} commits {committed.Block}");
        if (instance.Role != NodeRole.Correct)
        {
            return;
        }

        _checker.OnCommit(_now, instance.Id, committed.Block, instance.Store);
        if (_epochs.CommitProblem(committed.Block, instance.Store.CertificateAt(committed.Block.Height)!, _verifier) is { } problem)
        {
            _checker.Add(ViolationKind.Epoch, _now, $"{instance}: {problem}");
        }

        if (_checker.HasAgreementViolation)
        {
            _done = true;
        }

        if (_network.Healed && committed.Block.Round > _roundAtGst)
        {
            instance.CommitsAfterGst++;
        }
    }

    private void RecordSigned(SimInstance instance, ConsensusMessage message)
    {
        if (instance.Role == NodeRole.Correct)
        {
            _checker.OnSigned(_now, instance.Validator, message);
        }
    }

    private void SubmitTransaction()
    {
        var up = _instances.Where(i => i.Replica is not null).ToList();
        if (up.Count == 0)
        {
            return;
        }

        var payload = new byte[24 + _rng.Next(100)];
        BitConverter.TryWriteBytes(payload, _seed);
        BitConverter.TryWriteBytes(payload.AsSpan(8), ++_transactionCounter);
        for (var i = 16; i < payload.Length; i++)
        {
            payload[i] = (byte)_rng.Next(256);
        }

        _checker.OnSubmitted(Block.TransactionHash(payload));
        var instance = _rng.Pick(up);
        instance.Replica!.SubmitTransaction(payload);
        if (_config.Pacemaker.IdleIntervalMs > 0)
        {
            Execute(instance, () => instance.Replica!.OnTransactionsAdded(LocalTime(instance)));
        }
    }

    /// <summary>A restart reads only what the instance persisted: its safety state and its committed blocks.</summary>
    private void Restart(SimInstance instance)
    {
        var safety = SafetyState.Initial(_chain);
        if (instance.SafetyState is { } stored && !ConsensusCodec.TryDecodeSafetyState(stored, _chain.Limits, out safety, out var error))
        {
            _checker.Add(ViolationKind.Exception, _now, $"{instance}: persisted safety state does not decode: {error}");
            _done = true;
            return;
        }

        var height = instance.Store.Height;
        _execution.Recover(instance);
        var options = new ReplicaOptions
        {
            Pacemaker = _config.Pacemaker,
            MaxExecutionLagBlocks = _config.MaxExecutionLagBlocks,
            DecorateSafetyRules = instance.Role == NodeRole.Correct
                ? ProtocolMutations.Decorator(_config.Mutation, _chain, instance.Validator, instance.Key)
                : null,
            GuardEmptyJournal = false,
        };
        foreach (var committed in instance.PendingBlocks.Values.Where(b => b.Height <= height).ToList())
        {
            instance.PendingBlocks.Remove(committed.Id);
        }

        StartReplica(instance, safety, options, null);
    }

    /// <summary>The epoch's last block committed here: the instance votes on in the next epoch, or retires if it is not in its set.</summary>
    private void OpenNextEpoch(SimInstance instance, EpochEnded ended)
    {
        var old = instance.Replica!;
        var options = new ReplicaOptions
        {
            Pacemaker = _config.Pacemaker,
            MaxExecutionLagBlocks = _config.MaxExecutionLagBlocks,
            GuardEmptyJournal = false,
        };
        if (StartReplica(instance, old.SafetyState, options, ended) is { } replica)
        {
            replica.SubmitTransactions([.. old.Mempool.Pending]);
        }
    }

    private Replica? StartReplica(SimInstance instance, SafetyState safety, ReplicaOptions options, EpochEnded? ended)
    {
        if (!_epochs.IsMember(_epochs.EpochAfter(instance.Store.Height), instance.Key.PublicKey))
        {
            Trace($"{instance} retires: it is not in the validator set of epoch {_epochs.EpochAfter(instance.Store.Height)}");
            instance.Retired = true;
            instance.Replica = null;
            return null;
        }

        var replica = _epochs.Create(instance, safety, options, _verifier, ended);
        instance.Replica = replica;
        Trace($"{instance} starts epoch {replica.Epoch.Epoch} at round {replica.CurrentRound}, committed height {instance.Store.Height}");
        Execute(instance, () => replica.Start(LocalTime(instance)));
        return replica;
    }

    private void Heal()
    {
        if (_network.Healed)
        {
            return;
        }

        _network.Heal();
        _healedAt = _now;
        _roundAtGst = MaxCorrectRound();

        // Block sync walks back from the newest certified block, one answer of at most MaxBlocksPerResponse blocks per
        // round trip, and a round here is about one round trip: a validator cut off for the whole run before GST may be
        // hundreds of blocks behind, which no fixed number of rounds covers.
        var heights = _instances.Where(i => i.Role == NodeRole.Correct).Select(i => i.Store.Height).ToList();
        var behind = heights.Count == 0 ? 0 : heights.Max() - heights.Min();
        _catchUpRounds = (behind + _chain.Limits.MaxBlocksPerResponse - 1) / _chain.Limits.MaxBlocksPerResponse;
        Trace($"GST: the network heals at round {_roundAtGst}; {behind} blocks between the validators furthest apart");
    }

    /// <summary>Detects the twins' heal (the last split round is over), liveness after GST, and worlds that stopped moving.</summary>
    private void CheckProgress()
    {
        if (_done)
        {
            return;
        }

        if (!_network.Healed && _config.Partitions == PartitionMode.PerRound && MaxCorrectRound() > _config.PartitionedRounds)
        {
            Heal();
        }

        if (!_network.Healed)
        {
            if (_now > NoProgressLimitMs || _events > MaxEvents)
            {
                _checker.Add(ViolationKind.Liveness, _now, $"the network never healed (round {MaxCorrectRound()}, {_events} events)");
                _done = true;
            }

            return;
        }

        var correct = _instances.Where(i => i.Role == NodeRole.Correct && !i.Retired).ToList();
        if (_roundsToCommitAfterGst is null && correct.All(i => i.CommitsAfterGst > 0))
        {
            _roundsToCommitAfterGst = MaxCorrectRound() - _roundAtGst;
            if (_roundsToCommitAfterGst > _livenessBound + _catchUpRounds)
            {
                _checker.Add(ViolationKind.Liveness, _now,
                    $"commits resumed {_roundsToCommitAfterGst} rounds after GST, above the bound {_livenessBound} + {_catchUpRounds} to fetch the blocks a validator missed");
            }
        }

        if (correct.All(i => i.CommitsAfterGst >= _config.CommitsAfterGst))
        {
            _done = true;
        }
        else if (_now > _healedAt + _config.MaxRunAfterGstMs || _events > MaxEvents)
        {
            var behind = string.Join(", ", correct.Where(i => i.CommitsAfterGst < _config.CommitsAfterGst)
                .Select(i => $"{i} (round {i.Replica?.CurrentRound}, height {i.Store.Height}, {i.CommitsAfterGst} new)"));
            _checker.Add(ViolationKind.Liveness, _now, $"{_now - _healedAt} ms after GST (round {_roundAtGst}) still waiting for {behind}");
            _done = true;
        }
    }

    private long MaxCorrectRound() =>
        _instances.Where(i => i.Role == NodeRole.Correct && i.Replica is not null).Select(i => i.Replica!.CurrentRound).DefaultIfEmpty(0).Max();

    private long LocalTime(SimInstance instance) => GenesisTimeMs + _now + instance.ClockSkewMs;

    private void Schedule(long time, SimEvent e) => _queue.Enqueue(e, (time, _sequence++));

    private void Trace(string line) => _trace?.WriteLine($"{_now,8} {line}");

    ChainParameters IAdversaryWorld.Chain => _chain;

    VerifiedSignatureCache IAdversaryWorld.Verifier => _verifier;

    SimRandom IAdversaryWorld.Random => _rng;

    WorldConfig IAdversaryWorld.Config => _config;

    IReadOnlyList<SimInstance> IAdversaryWorld.Instances => _instances;

    SimNetwork IAdversaryWorld.Network => _network;

    long IAdversaryWorld.Now => _now;

    void IAdversaryWorld.ExecuteHonestly(SimInstance instance, ReplicaEffect effect) => ExecuteEffect(instance, effect);

    long IAdversaryWorld.LocalTime(SimInstance instance) => LocalTime(instance);

    void IAdversaryWorld.Trace(string line) => Trace(line);
}
