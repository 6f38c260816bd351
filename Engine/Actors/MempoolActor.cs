using Akka.Actor;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// Where transactions enter a validator, from clients or forwarded by other validators. It checks each one with the
/// application before the consensus actor's mempool sees it (peers are untrusted too), answers clients in
/// submission order, and passes what was admitted on to every other validator in batches, so that a transaction
/// submitted to any validator is proposed by whichever leads next. The pending set itself, with its bounds,
/// de-duplication and return of abandoned forks, is the replica's <see cref="Mempool"/>.
/// </summary>
public sealed class MempoolActor : ReceiveActor, IWithStash
{
    public const string Name = "mempool";
    private const int ForwardBatch = 1_000;

    private readonly Func<byte[], Hash32, string?> _check;
    private readonly IActorRef _directory;
    private readonly int _maxPerMessage;
    private readonly List<byte[]> _toForward = [];
    private IActorRef _consensus = ActorRefs.Nobody;
    private bool _flushQueued;

    public MempoolActor(Func<byte[], Hash32, string?> check, IActorRef directory, int maxPerMessage)
    {
        _check = check;
        _directory = directory;
        _maxPerMessage = maxPerMessage;
        Receive<Attach>(attach =>
        {
            _consensus = attach.Consensus;
            Stash.UnstashAll();
            Become(Attached);
        });
        ReceiveAny(_ => Stash.Stash());
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(Func<byte[], Hash32, string?> check, IActorRef directory, int maxPerMessage) =>
        global::Akka.Actor.Props.Create(() => new MempoolActor(check, directory, maxPerMessage)).WithMailbox(PeerDirectory.PeerMailbox);

    private void Attached()
    {
        Receive<SubmitTransactions>(submit => Check(submit.Transactions, Sender, forward: true));
        Receive<ForwardedTransactions>(forwarded => Check(forwarded.Transactions, null, forward: false));
        Receive<Admitted>(admitted =>
        {
            _toForward.AddRange(admitted.Transactions);
            if (_toForward.Count >= ForwardBatch)
            {
                Flush();
            }
            else if (!_flushQueued)
            {
                // Behind whatever is already in the mailbox: under load the batch grows with every Admitted queued
                // before it, and an idle validator forwards at once. (A timer waited up to 10 ms, more than a round
                // at block 1, before the next leader could see a transaction submitted elsewhere.)
                _flushQueued = true;
                Self.Tell(FlushNow.Instance);
            }
        });
        Receive<FlushNow>(_ => Flush());
    }

    private void Check(IReadOnlyList<byte[]> transactions, IActorRef? replyTo, bool forward)
    {
        // Hashed once, here, off the consensus actor's thread: the check, the answer and the mempool all use it.
        var hashes = new Hash32[transactions.Count];
        var results = new SubmitResult?[transactions.Count];
        for (var i = 0; i < transactions.Count; i++)
        {
            hashes[i] = Block.TransactionHash(transactions[i]);
            if (_check(transactions[i], hashes[i]) is { } reason)
            {
                results[i] = new SubmitResult(hashes[i], MempoolAddStatus.Rejected, reason);
            }
        }

        _consensus.Tell(new ConsensusActor.AddTransactions(transactions, hashes, results, replyTo, forward));
    }

    private void Flush()
    {
        _flushQueued = false;
        for (var start = 0; start < _toForward.Count; start += _maxPerMessage)
        {
            var batch = _toForward.GetRange(start, Math.Min(_maxPerMessage, _toForward.Count - start));
            _directory.Tell(new PeerDirectory.ToAll(new ForwardedTransactions(batch)));
        }

        _toForward.Clear();
    }

    public sealed record Attach(IActorRef Consensus);

    /// <summary>Transactions the consensus actor's mempool took that were submitted here; they go on to the other validators.</summary>
    public sealed record Admitted(IReadOnlyList<byte[]> Transactions);

    private sealed record FlushNow
    {
        public static FlushNow Instance { get; } = new();
    }
}
