using System.Collections.Concurrent;
using System.Text;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Network;
using Prometheus;

namespace IdOS.Akka.Engine.Observability;

/// <summary>
/// A validator's Prometheus metrics, in a registry of its own (several nodes may share a process in tests). The
/// actors count events as they happen (commits, messages, journal writes, executed blocks, mempool refusals); what a
/// status already holds (heights, round, peers, counters the consensus actor keeps) is copied in from a fresh status
/// at each scrape (<see cref="Observe"/>). Names follow Prometheus conventions: `idos_` prefix, base units
/// (seconds, bytes), `_total` on counters.
/// </summary>
public sealed class NodeMetrics
{
    private static readonly double[] SecondsBuckets = Histogram.ExponentialBuckets(0.000_5, 2, 16);

    // The children by message type, so that counting a message (on the peer directory's path of every one) is one lookup.
    private readonly ConcurrentDictionary<Type, (Counter.Child In, Counter.Child Out)> _kinds = new();
    private readonly Counter _messagesIn;
    private readonly Counter _messagesOut;
    private readonly Counter _mempoolRefused;
    private readonly Counter _timeouts;
    private readonly Gauge _height;
    private readonly Gauge _networkHeight;
    private readonly Gauge _round;
    private readonly Gauge _executedHeight;
    private readonly Gauge _executionLag;
    private readonly Gauge _epoch;
    private readonly Gauge _setSize;
    private readonly Gauge _voting;
    private readonly Gauge _healthy;
    private readonly Gauge _peers;
    private readonly Gauge _mempool;
    private readonly Counter _transactions;
    private readonly Counter _rejected;
    private readonly Counter _signaturesVerified;
    private readonly Counter _signatureCacheHits;
    private readonly Counter _bytesServed;
    private readonly Counter _requestsOverLimit;
    private readonly Counter _heldForExecution;
    private readonly Gauge _leaderWeight;

    public NodeMetrics()
    {
        var metrics = Metrics.WithCustomRegistry(Registry);
        Counter CounterOf(string name, string help, params string[] labels) =>
            metrics.CreateCounter(name, help, new CounterConfiguration { LabelNames = labels });
        Gauge GaugeOf(string name, string help) => metrics.CreateGauge(name, help);
        Histogram HistogramOf(string name, string help, double[] buckets) =>
            metrics.CreateHistogram(name, help, new HistogramConfiguration { Buckets = buckets });

        _height = GaugeOf("idos_consensus_height", "The height of the last block committed here.");
        _networkHeight = GaugeOf("idos_consensus_network_height", "The network's head as this node can tell: the height f + 1 peers' proposals reached.");
        _round = GaugeOf("idos_consensus_round", "The round this validator is in.");
        _executedHeight = GaugeOf("idos_execution_height", "The height of the last block executed here.");
        _executionLag = GaugeOf("idos_execution_lag_blocks", "Committed blocks not executed yet.");
        _epoch = GaugeOf("idos_consensus_epoch", "The validator-set epoch that votes on the next block.");
        _setSize = GaugeOf("idos_consensus_validators", "Validators in the current epoch's set.");
        _voting = GaugeOf("idos_consensus_voting", "1 when this node has a vote in the current epoch, 0 when it only follows.");
        _healthy = GaugeOf("idos_node_healthy", "1 when the node is connected to a quorum and within the allowed distance of the network's head.");
        _peers = GaugeOf("idos_peers_connected", "Connected peers with a vote in the current epoch.");
        _mempool = GaugeOf("idos_mempool_transactions", "Transactions admitted and not committed yet.");
        _transactions = CounterOf("idos_consensus_transactions_committed_total", "Transactions in blocks committed here.");
        _rejected = CounterOf("idos_consensus_messages_rejected_total", "Peer messages the consensus core refused (bad signature, stale, malformed).");
        _signaturesVerified = CounterOf("idos_signatures_verified_total", "Signatures the consensus verified itself (not found already verified).");
        _signatureCacheHits = CounterOf("idos_signature_cache_hits_total", "Signature checks answered by the cache of verified signatures.");
        _bytesServed = CounterOf("idos_sync_served_bytes_total", "Bytes of blocks and snapshot chunks served to peers.");
        _requestsOverLimit = CounterOf("idos_sync_requests_over_limit_total", "Peer block requests dropped for exceeding the peer's byte budget.");
        _heldForExecution = CounterOf("idos_consensus_proposals_held_for_execution_total", "Rounds a leader held its proposal back for its lagging executor.");
        _leaderWeight = metrics.CreateGauge("idos_consensus_leader_weight", "Each validator's weight in the leader draw as the newest committed blocks leave it (leader reputation).",
            new GaugeConfiguration { LabelNames = ["validator"] });
        _timeouts = CounterOf("idos_consensus_timeouts_total", "Rounds this validator timed out in, by what the round lacked.", "cause");
        _messagesIn = CounterOf("idos_network_messages_received_total", "Consensus messages received from authenticated peers, by kind.", "kind");
        _messagesOut = CounterOf("idos_network_messages_sent_total", "Messages sent to peers, by kind (a broadcast counts once per peer).", "kind");
        _mempoolRefused = CounterOf("idos_mempool_refused_total", "Transactions the mempool did not admit, by reason.", "reason");
        BlocksCommitted = CounterOf("idos_consensus_blocks_committed_total", "Blocks committed here.");
        CommitLatency = HistogramOf("idos_consensus_commit_latency_seconds", "From a block's proposal (its timestamp) to its commit here.", SecondsBuckets);
        BlockTransactions = HistogramOf("idos_consensus_block_transactions", "Transactions per committed block.", Histogram.ExponentialBuckets(1, 2, 14));
        BlockBytes = HistogramOf("idos_consensus_block_bytes", "Encoded size of committed blocks.", Histogram.ExponentialBuckets(256, 2, 16));
        JournalWrite = HistogramOf("idos_journal_write_seconds", "From asking the journal to keep the safety state to its confirmation.", SecondsBuckets);
        ExecuteBlock = HistogramOf("idos_execution_block_seconds", "Time to execute one block and write its state.", SecondsBuckets);
    }

    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    public Counter BlocksCommitted { get; }

    public Histogram CommitLatency { get; }

    public Histogram BlockTransactions { get; }

    public Histogram BlockBytes { get; }

    public Histogram JournalWrite { get; }

    public Histogram ExecuteBlock { get; }

    public void Received(object message) => KindOf(message).In.Inc();

    public void Sent(object message, int peers)
    {
        if (peers > 0)
        {
            KindOf(message).Out.Inc(peers);
        }
    }

    /// <summary>A refusal's reason, one of a few fixed words so that the label set stays bounded.</summary>
    public void Refused(string reason) => _mempoolRefused.WithLabels(reason).Inc();

    /// <summary>Copies what a fresh status and the replica's counters hold; called before each scrape.</summary>
    public void Observe(NodeStatus status, ReplicaCounters? counters, long signatureCacheHits, long[]? leaderWeights = null)
    {
        ArgumentNullException.ThrowIfNull(status);
        _height.Set(status.Height);
        _networkHeight.Set(status.NetworkHeight);
        _round.Set(status.Round);
        _executedHeight.Set(status.ExecutedHeight);
        _executionLag.Set(Math.Max(0, status.Height - status.ExecutedHeight));
        _epoch.Set(status.Epoch);
        _setSize.Set(status.SetSize);
        _voting.Set(status.Voting ? 1 : 0);
        _healthy.Set(status.Unhealthy.Length == 0 ? 1 : 0);
        _peers.Set(status.PeersConnected);
        _mempool.Set(status.PendingTransactions);
        _transactions.IncTo(status.CommittedTransactions);
        _rejected.IncTo(status.RejectedMessages);
        _signaturesVerified.IncTo(status.SignaturesVerifiedByConsensus);
        _signatureCacheHits.IncTo(signatureCacheHits);
        _bytesServed.IncTo(status.BlockBytesServed);
        _requestsOverLimit.IncTo(status.BlockRequestsOverLimit);
        _heldForExecution.IncTo(status.ProposalsHeldForExecution);
        for (var v = 0; v < (leaderWeights?.Length ?? 0); v++)
        {
            _leaderWeight.WithLabels(v.ToString(System.Globalization.CultureInfo.InvariantCulture)).Set(leaderWeights![v]);
        }

        if (counters is not null)
        {
            _timeouts.WithLabels("no_proposal").IncTo(counters.TimeoutsWithoutProposal);
            _timeouts.WithLabels("no_quorum").IncTo(counters.TimeoutsWithoutQuorum);
            _timeouts.WithLabels("joined").IncTo(counters.TimeoutsJoined);
        }
    }

    /// <summary>The counters of the message's kind: its type in snake case (`Proposal` is "proposal", `RoundSync` "round_sync").</summary>
    private (Counter.Child In, Counter.Child Out) KindOf(object message) => _kinds.GetOrAdd(message.GetType(), type =>
    {
        var name = new StringBuilder();
        foreach (var c in type.Name)
        {
            if (char.IsUpper(c) && name.Length > 0)
            {
                name.Append('_');
            }

            name.Append(char.ToLowerInvariant(c));
        }

        var kind = name.ToString();
        return (_messagesIn.WithLabels(kind), _messagesOut.WithLabels(kind));
    });
}
