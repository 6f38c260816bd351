using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using Akka.Actor;
using HdrHistogram;
using IdOS.Akka.Engine.Actors;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Bench.Cluster;

/// <summary>Whether commits count now: the warm-up and the wind-down are not measured.</summary>
internal sealed class MeasurementWindow
{
    private volatile bool _open;
    private long _duringFrom = long.MaxValue;
    private long _afterFrom = long.MaxValue;

    public bool IsOpen => _open;

    /// <summary>From now on, commands are submitted in the first seconds of a fault.</summary>
    public void FaultStarted() => Volatile.Write(ref _duringFrom, Stopwatch.GetTimestamp());

    /// <summary>From now on, commands are submitted after the fault's first seconds, where its targets apply.</summary>
    public void FaultSettled() => Volatile.Write(ref _afterFrom, Stopwatch.GetTimestamp());

    /// <summary>
    /// A command's fault phase (see <see cref="FaultFigures"/>): 0 when it committed before the fault, 2 when it was
    /// submitted after the fault's first seconds, and 1, during, for every command that lived through any of them.
    /// </summary>
    public int FaultPhaseOf(long submittedTimestamp, long committedTimestamp) =>
        submittedTimestamp >= Volatile.Read(ref _afterFrom) ? 2 : committedTimestamp >= Volatile.Read(ref _duringFrom) ? 1 : 0;

    public void Open() => _open = true;

    public void Close() => _open = false;
}

/// <summary>
/// What one client saw. Latencies are in microseconds, from handing a command over to learning that it committed.
/// The idOS workload's users record from many threads, hence the lock; the figures are read after the client stopped.
/// </summary>
internal sealed class ClientStats
{
    private readonly Lock _gate = new();

    /// <summary>Up to ten minutes at three significant digits.</summary>
    public LongHistogram Latency { get; } = new(600_000_000L, 3);

    /// <summary>The same latencies in three parts (noop and opaque workloads), see <see cref="LatencyPhases"/>.</summary>
    public LongHistogram ToProposal { get; } = new(600_000_000L, 3);

    public LongHistogram ProposalToCommit { get; } = new(600_000_000L, 3);

    public LongHistogram CommitToClient { get; } = new(600_000_000L, 3);

    /// <summary>The same latencies by <see cref="MeasurementWindow.FaultPhaseOf"/>.</summary>
    public LongHistogram[] ByFaultPhase { get; } = [new(600_000_000L, 3), new(600_000_000L, 3), new(600_000_000L, 3)];

    public long Acknowledged { get; private set; }

    public long Refused { get; private set; }

    public string? FirstRefusal { get; private set; }

    public string? Failure { get; private set; }

    /// <summary>A command of the measured window committed after <paramref name="microseconds"/>.</summary>
    public void Committed(long microseconds, int faultPhase)
    {
        lock (_gate)
        {
            Latency.RecordValue(Math.Max(1, microseconds));
            ByFaultPhase[faultPhase].RecordValue(Math.Max(1, microseconds));
            Acknowledged++;
        }
    }

    /// <summary>
    /// Where a measured command's latency went, in microseconds on the one clock of the machine. The parts can be a
    /// millisecond off each way (the proposal time is whole milliseconds), so a part that comes out below zero counts
    /// as zero.
    /// </summary>
    public void Phases(long toProposal, long proposalToCommit, long commitToClient)
    {
        lock (_gate)
        {
            ToProposal.RecordValue(Math.Max(0, toProposal));
            ProposalToCommit.RecordValue(Math.Max(0, proposalToCommit));
            CommitToClient.RecordValue(Math.Max(0, commitToClient));
        }
    }

    public void Refusal(long count, string reason)
    {
        lock (_gate)
        {
            Refused += count;
            FirstRefusal ??= reason;
        }
    }

    public void Fail(string reason)
    {
        lock (_gate)
        {
            Failure ??= reason;
        }
    }
}

/// <summary>A workload's clients while they run; disposing stops them, after which their stats are final.</summary>
internal interface IClusterLoad : IAsyncDisposable
{
    IReadOnlyList<ClientStats> Stats { get; }
}

internal sealed record ClientSetup(Address Validator, int ClientId, int Outstanding, int Payload, int MaxPerSubmission, byte[] RunSalt,
    MeasurementWindow Window, ClientStats Stats);

/// <summary>
/// A closed-loop client like libhotstuff's: it keeps <see cref="ClientSetup.Outstanding"/> commands in flight at one
/// validator, and for each that commits it sends a new one. Commands are 32-byte hashes of (run, client, counter),
/// unique across the run, followed by <see cref="ClientSetup.Payload"/> zero bytes. A command the validator refuses
/// (its mempool full) is counted and replaced after a short pause rather than resent at once into a full mempool.
/// </summary>
internal sealed class ClosedLoopClient : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan RefusalPause = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan SubscribeTimeout = TimeSpan.FromSeconds(10);

    private readonly ClientSetup _setup;
    private readonly Dictionary<Hash32, long> _submittedAt = [];
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();
    private readonly long _startUnixUs = CommittedBlock.UnixMicrosecondsNow();
    private readonly ActorSelection _mempool;
    private long _counter;

    public ClosedLoopClient(ClientSetup setup)
    {
        _setup = setup;
        _mempool = Context.ActorSelection(new RootActorPath(setup.Validator) / "user" / MempoolActor.Name);
        Receive<CommitSubscription>(subscription =>
        {
            Timers.Cancel("subscribe");
            if (!subscription.Accepted)
            {
                Fail($"the validator's commit feed refused the subscription: {subscription.Reason}");
                return;
            }

            Refill();
        });
        Receive<CommittedBlock>(Committed);
        Receive<SubmitResults>(Submitted);
        Receive<RefillNow>(_ => Refill());
        Receive<SubscribeTimedOut>(_ => Fail($"no answer from the commit feed of {setup.Validator} within {SubscribeTimeout.TotalSeconds:0} s"));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(ClientSetup setup) => global::Akka.Actor.Props.Create(() => new ClosedLoopClient(setup));

    protected override void PreStart()
    {
        Context.ActorSelection(new RootActorPath(_setup.Validator) / "user" / CommitFeedActor.Name).Tell(SubscribeCommits.Instance, Self);
        Timers.StartSingleTimer("subscribe", SubscribeTimedOut.Instance, SubscribeTimeout);
    }

    private void Committed(CommittedBlock block)
    {
        var measuring = _setup.Window.IsOpen;
        var now = Stopwatch.GetTimestamp();
        var nowUnixUs = ToUnixMicroseconds(now);
        var proposedAtUs = block.ProposedAtUnixMs * 1000;
        var ours = 0;
        foreach (var hash in block.TransactionHashes)
        {
            if (_submittedAt.Remove(hash, out var submitted))
            {
                ours++;
                if (measuring)
                {
                    _setup.Stats.Committed((long)Stopwatch.GetElapsedTime(submitted, now).TotalMicroseconds, _setup.Window.FaultPhaseOf(submitted, now));
                    _setup.Stats.Phases(proposedAtUs - ToUnixMicroseconds(submitted), block.CommittedAtUnixUs - proposedAtUs,
                        nowUnixUs - block.CommittedAtUnixUs);
                }
            }
        }

        if (ours > 0)
        {
            Refill();
        }
    }

    private void Submitted(SubmitResults results)
    {
        var refused = 0;
        string? reason = null;
        foreach (var result in results.Results)
        {
            if (result.Status != MempoolAddStatus.Added && _submittedAt.Remove(result.Hash))
            {
                refused++;
                reason ??= $"{result.Status}: {result.Reason}";
            }
        }

        if (reason is not null)
        {
            _setup.Stats.Refusal(refused, reason);
            if (!Timers.IsTimerActive("refill"))
            {
                Timers.StartSingleTimer("refill", RefillNow.Instance, RefusalPause);
            }
        }
    }

    private void Refill()
    {
        var missing = _setup.Outstanding - _submittedAt.Count;
        while (missing > 0)
        {
            var count = Math.Min(missing, _setup.MaxPerSubmission);
            var commands = new byte[count][];
            var now = Stopwatch.GetTimestamp();
            for (var i = 0; i < count; i++)
            {
                commands[i] = NextCommand();
                _submittedAt[Block.TransactionHash(commands[i])] = now;
            }

            _mempool.Tell(new SubmitTransactions(commands), Self);
            missing -= count;
        }
    }

    /// <summary>A stopwatch reading on the wall clock, from one pair of readings taken when the client started.</summary>
    private long ToUnixMicroseconds(long timestamp) =>
        _startUnixUs + (long)Stopwatch.GetElapsedTime(_startTimestamp, timestamp).TotalMicroseconds;

    private byte[] NextCommand()
    {
        Span<byte> seed = stackalloc byte[_setup.RunSalt.Length + 12];
        _setup.RunSalt.CopyTo(seed);
        BinaryPrimitives.WriteInt32BigEndian(seed[_setup.RunSalt.Length..], _setup.ClientId);
        BinaryPrimitives.WriteInt64BigEndian(seed[(_setup.RunSalt.Length + 4)..], _counter++);
        var command = new byte[Hash32.Size + _setup.Payload];
        SHA256.HashData(seed, command);
        return command;
    }

    private void Fail(string reason)
    {
        _setup.Stats.Fail(reason);
        Context.Stop(Self);
    }

    private sealed record RefillNow
    {
        public static RefillNow Instance { get; } = new();
    }

    private sealed record SubscribeTimedOut
    {
        public static SubscribeTimedOut Instance { get; } = new();
    }
}

/// <summary>The noop workload: a <see cref="ClosedLoopClient"/> per client, the clients spread over the validators.</summary>
internal sealed class NoopLoad(IReadOnlyList<IActorRef> clients, IReadOnlyList<ClientStats> stats) : IClusterLoad
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    public IReadOnlyList<ClientStats> Stats => stats;

    public static NoopLoad Start(ActorSystem system, ClusterSettings settings, IReadOnlyList<Address> validators, MeasurementWindow window)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var stats = Enumerable.Range(0, settings.Clients).Select(_ => new ClientStats()).ToList();
        // A node decodes a submission of at most a block's worth of transactions.
        var perSubmission = Math.Min(settings.Batch, 1_000);
        var clients = stats.Select((clientStats, c) => system.ActorOf(ClosedLoopClient.Props(new ClientSetup(
            validators[c % validators.Count], c, settings.Outstanding, settings.Payload, perSubmission, salt, window, clientStats)))).ToList();
        return new NoopLoad(clients, stats);
    }

    public async ValueTask DisposeAsync() => await Task.WhenAll(clients.Select(c => c.GracefulStop(StopTimeout)));
}
