using Akka.Actor;
using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Observability;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// What a consensus actor needs; the block store belongs to it alone once it starts, and the executor (an
/// <see cref="ExecutorActor"/>) executes what it commits, with the store's app hashes level with its blocks.
/// </summary>
public sealed record ConsensusActorSetup(
    ChainParameters Chain,
    int Validator,
    Ed25519PrivateKey Key,
    VerifiedSignatureCache Verifier,
    SqliteBlockStore Store,
    IActorRef Executor,
    ReplicaOptions Options,
    Func<long> ClockMs,
    IActorRef Directory,
    IActorRef Pacemaker,
    IActorRef Mempool,
    long ExitAfterPersistingVoteInRound = 0)
{
    /// <summary>The sync actor's counters, reported in the status; none when no sync actor serves this node's blocks.</summary>
    public SyncCounters? Sync { get; init; }

    /// <summary>The mempool actor's size, reported in the status; without it, the proposal queue's.</summary>
    public MempoolCounters? MempoolCounters { get; init; }

    /// <summary>The validator sets the executed state scheduled so far; genesis alone when none is given.</summary>
    public IReadOnlyList<ScheduledEpoch> ScheduledEpochs { get; init; } = [];

    /// <summary>The network's height as the peer directory sees it, how far behind it the node is still healthy, and its metrics.</summary>
    public (NetworkHead Head, NodeHealth Judge, NodeMetrics? Metrics) Health { get; init; } = (new NetworkHead(), new NodeHealth(NodeHealth.DefaultMaxBlocksBehind), null);
}
