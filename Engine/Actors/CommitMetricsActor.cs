using Akka.Actor;
using IdOS.Akka.Engine.Observability;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// Counts committed blocks into the node's metrics from the event stream, off the consensus actor: how many, how long
/// from proposal to commit here, and how large.
/// </summary>
public sealed class CommitMetricsActor : ReceiveActor
{
    public CommitMetricsActor(NodeMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        Receive<BlockCommittedNotice>(notice =>
        {
            metrics.BlocksCommitted.Inc();
            metrics.CommitLatency.Observe(Math.Max(0, (notice.CommittedAtUnixUs / 1_000.0) - notice.ProposedAtUnixMs) / 1_000.0);
            metrics.BlockTransactions.Observe(notice.TransactionHashes.Count);
            metrics.BlockBytes.Observe(notice.EncodedBytes);
        });
    }

    public static Props Props(NodeMetrics metrics) => global::Akka.Actor.Props.Create(() => new CommitMetricsActor(metrics));

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(BlockCommittedNotice));
}
