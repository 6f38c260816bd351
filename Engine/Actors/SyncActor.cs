using Akka.Actor;
using Akka.Event;
using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Storage.Snapshots;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// Serves other validators' block requests from the committed chain, on a read connection of its own, so that a
/// validator catching up (up to 64 blocks of up to 4 MiB per request, walking back from a block or forward by height)
/// does not hold up this one's voting. A request
/// for a block that is not committed here goes to the consensus actor, whose block tree may hold it. Fetching what
/// this validator itself lacks is the replica's (it knows which certificates name unknown blocks). It also serves the
/// state snapshots this validator keeps: their offers, and their chunks one at a time. Each peer's responses draw on
/// a byte budget of their own, so requests in a loop (or in another validator's name) cost this
/// node a bounded share of its uplink.
/// </summary>
public sealed class SyncActor : ReceiveActor
{
    public const string Name = "sync";

    private readonly SqliteBlockStore _committed;
    private readonly ConsensusLimits _limits;
    private readonly IActorRef _consensus;
    private readonly IActorRef _directory;
    private readonly SyncCounters _counters;

    /// <summary>
    /// Serves from <paramref name="committed"/> within <paramref name="limits"/>, each peer within the bytes a second of
    /// <paramref name="peerLimits"/> (refilled by <paramref name="clockMs"/>); answers go out through <paramref name="directory"/>,
    /// everything else to <paramref name="consensus"/>.
    /// </summary>
    public SyncActor(SqliteBlockStore committed, ConsensusLimits limits, PeerLimits peerLimits, Func<long> clockMs, IActorRef consensus, IActorRef directory,
        SyncCounters counters, SnapshotDirectory? snapshots = null)
    {
        ArgumentNullException.ThrowIfNull(peerLimits);
        ArgumentNullException.ThrowIfNull(clockMs);
        _committed = committed;
        _limits = limits;
        _consensus = consensus;
        _directory = directory;
        _counters = counters;
        var log = Context.GetLogger();
        var budgets = new PeerBudgets(peerLimits.SyncBytesPerSecond, peerLimits.SyncBytesBurst);
        Receive<ConsensusActor.Inbound>(inbound =>
        {
            ConsensusMessage response;
            long bytes;
            if (inbound.Message is HeaderRangeRequest headers)
            {
                var answer = BlockServing.AnswerHeaders(headers, _limits, _committed.StoredHeight, _committed.HeaderAt, _committed.TransitionAfter);
                (response, bytes) = (answer, answer.Headers.Sum(h => 512L + (h.TransactionHashes.Count * Hash32.Size)));
            }
            else if (inbound.Message is BlockRangeRequest range)
            {
                var answer = BlockServing.AnswerRange(range, _limits, _committed.StoredHeight, () => _committed.PrunedHeight, _committed.GetByHeight);
                (response, bytes) = (answer, answer.Blocks.Sum(b => (long)b.EncodedSize));
            }
            else if (inbound.Message is BlockRequest request && _committed.GetById(request.BlockId) is not null)
            {
                var answer = BlockServing.Answer(request, _limits, _committed.GetById);
                (response, bytes) = (answer, answer.Blocks.Sum(b => (long)b.EncodedSize));
            }
            else
            {
                _consensus.Forward(inbound);
                return;
            }

            var peer = inbound.From.Value;
            if (!budgets.TryTake(peer, bytes, clockMs()))
            {
                var dropped = _counters.CountOverLimit();
                if (dropped % 1_000 == 1)
                {
                    log.Warning("Dropped a block request in validator {0}'s name: its responses are over {1} bytes a second ({2} dropped so far).",
                        peer, peerLimits.SyncBytesPerSecond, dropped);
                }

                return;
            }

            _counters.CountServed(bytes);
            _directory.Tell(new PeerDirectory.ToValidator(peer, response));
        });
        Receive<PeerDirectory.FromValidator>(query =>
        {
            NodeMessage answer = query.Message switch
            {
                SnapshotOffersQuery => new SnapshotOffers([.. (snapshots?.Heights() ?? []).Take(SnapshotOffers.MaxOffers)
                    .Select(height => snapshots!.Offer(height)?.Encode()).OfType<byte[]>()]),
                SnapshotChunkQuery chunk => new SnapshotChunk(chunk.Height, chunk.Index, snapshots?.Chunk(chunk.Height, chunk.Index) ?? []),
                _ => throw new InvalidOperationException($"The sync actor does not answer {query.Message.GetType().Name}."),
            };
            var bytes = answer is SnapshotChunk { Bytes: var data } ? data.Length : 0;
            if (!budgets.TryTake(query.Validator, bytes, clockMs()))
            {
                _counters.CountOverLimit();
                return;
            }

            _counters.CountServed(bytes);
            _directory.Tell(new PeerDirectory.ToValidator(query.Validator, answer));
        });
    }

    public static Props Props(SqliteBlockStore committed, ConsensusLimits limits, PeerLimits peerLimits, Func<long> clockMs, IActorRef consensus,
        IActorRef directory, SyncCounters counters, SnapshotDirectory? snapshots = null) =>
        global::Akka.Actor.Props.Create(() => new SyncActor(committed, limits, peerLimits, clockMs, consensus, directory, counters, snapshots))
            .WithMailbox(PeerDirectory.PeerMailbox);

    protected override void PostStop() => _committed.Dispose();
}

/// <summary>
/// What serving blocks has cost, written by the sync actor and read by the consensus actor for the node's status
/// (counters that only grow, so neither actor waits on the other).
/// </summary>
public sealed class SyncCounters
{
    private long _bytesServed;
    private long _overLimit;

    /// <summary>Bytes of blocks sent in answer to block requests.</summary>
    public long BytesServed => Interlocked.Read(ref _bytesServed);

    /// <summary>Block requests dropped because the requester's byte budget was spent.</summary>
    public long OverLimit => Interlocked.Read(ref _overLimit);

    internal void CountServed(long bytes) => Interlocked.Add(ref _bytesServed, bytes);

    internal long CountOverLimit() => Interlocked.Increment(ref _overLimit);
}
