using Akka.Actor;
using Akka.Event;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Observability;

namespace IdOS.Akka.Engine.Actors;

/// <summary>What a mempool actor needs: the application's check, the committed lookup and the pool's bounds.</summary>
/// <param name="Check">The application's verdict on a transaction with its hash: its refusal, or its place in its sender's line.</param>
/// <param name="FindCommitted">Which of a batch of hashes the chain holds (safe to call off the consensus actor).</param>
/// <param name="Directory">The peer directory, which forwards to the other validators.</param>
/// <param name="MaxTransactions">The pool's bound on transactions admitted and not yet committed.</param>
/// <param name="MaxBytes">The pool's bound on their bytes.</param>
/// <param name="MaxTransactionBytes">The largest transaction a block may carry.</param>
/// <param name="ForwardBatch">At most this many transactions in one message to a peer.</param>
public sealed record MempoolSetup(
    Func<byte[], Hash32, MempoolVerdict> Check,
    CommittedLookup FindCommitted,
    IActorRef Directory,
    int MaxTransactions,
    long MaxBytes,
    int MaxTransactionBytes,
    int ForwardBatch)
{
    public MempoolCounters Counters { get; init; } = new();

    /// <summary>Where refusals are counted by reason: duplicate, invalid (the application's checks), size, full.</summary>
    public NodeMetrics? Metrics { get; init; }

    /// <summary>
    /// The nonce the state expects next from a sender the check placed in a line; read on the mempool actor's thread,
    /// never the consensus actor's. Without it, transactions are handed on in arrival order.
    /// </summary>
    public Func<string, ulong>? NextNonce { get; init; }
}

/// <summary>
/// Where transactions enter a validator, from clients or forwarded by other validators, and wait until they commit.
/// It owns admission: each transaction is hashed once, refused if pending or committed already, checked by the
/// application (peers are untrusted too) and held within the pool's bounds; the answer goes to the client in
/// submission order and what a client submitted goes on to every other validator in batches, so that whichever
/// leads next can propose it. The consensus actor pulls: it asks for as many as its proposal queue has room for,
/// and is answered at once from what waits, or as soon as something is admitted.
/// </summary>
public sealed class MempoolActor : ReceiveActor, IWithStash
{
    public const string Name = "mempool";
    private const int FlushAt = 1_000;

    // Senders whose held-back transactions are looked up again after each executed block: a bounded number of state
    // reads per block, taken in turn.
    private const int RefreshesPerBlock = 64;

    private readonly MempoolSetup _setup;
    private readonly TransactionPool _pool;
    private readonly List<byte[]> _toForward = [];
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef _consensus = ActorRefs.Nobody;
    private Pull? _demand;
    private long _committedHeight = -1;
    private bool _flushQueued;

    public MempoolActor(MempoolSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        _setup = setup;
        _pool = new TransactionPool(setup.MaxTransactions, setup.MaxBytes, setup.MaxTransactionBytes, setup.NextNonce is null ? null : NextNonce);
        Receive<Attach>(attach =>
        {
            _consensus = attach.Consensus;
            Context.System.EventStream.Subscribe(Self, typeof(BlockCommittedNotice));
            Context.System.EventStream.Subscribe(Self, typeof(BlockExecutedNotice));
            Stash.UnstashAll();
            Become(Attached);
        });
        ReceiveAny(_ => Stash.Stash());
    }

    public IStash Stash { get; set; } = null!;

    public static Props Props(MempoolSetup setup) =>
        global::Akka.Actor.Props.Create(() => new MempoolActor(setup)).WithMailbox(PeerDirectory.PeerMailbox);

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void Attached()
    {
        Receive<SubmitTransactions>(submit => Admit(submit.Transactions, Sender, forward: true));
        Receive<ForwardedTransactions>(forwarded => Admit(forwarded.Transactions, null, forward: false));
        Receive<Pull>(pull =>
        {
            _pool.Remove(pull.GivenUp);
            _pool.TakeBack(pull.NoRoom);
            _demand = pull;
            Serve();
            Count();
        });
        Receive<BlockCommittedNotice>(committed =>
        {
            _pool.Remove(committed.TransactionHashes);
            if (_committedHeight >= 0 && committed.Height > _committedHeight + 1)
            {
                RemoveCommitted();
            }

            _committedHeight = Math.Max(_committedHeight, committed.Height);
            Count();
        });
        Receive<BlockExecutedNotice>(_ => Refresh());
        Receive<FlushNow>(_ => Flush());
    }

    /// <summary>
    /// A commit notice went missing (a full mailbox drops what arrives): whatever the pool holds that the chain
    /// committed meanwhile leaves it, as the notice would have made it.
    /// </summary>
    private void RemoveCommitted()
    {
        var hashes = _pool.Hashes.ToArray();
        var committed = new bool[hashes.Length];
        _setup.FindCommitted(hashes, committed);
        _pool.Remove(hashes.Where((_, i) => committed[i]));
    }

    /// <summary>The state moved on: senders held back past a gap may now be past it.</summary>
    private void Refresh()
    {
        if (_pool.Held == 0)
        {
            return;
        }

        foreach (var sender in _pool.HoldingSenders(RefreshesPerBlock))
        {
            if (NextNonce(sender) is { } next)
            {
                _pool.Refresh(sender, next);
            }
        }

        Serve();
        Count();
    }

    /// <summary>A state that cannot be read leaves the sender's line where it was rather than stop the mempool.</summary>
    private ulong? NextNonce(string sender)
    {
        try
        {
            return _setup.NextNonce!(sender);
        }
#pragma warning disable CA1031 // A failed read is logged; admission goes on without this sender's state.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _log.Warning("The state could not tell the next nonce of {0}: {1}", sender, e.Message);
            return null;
        }
    }

    private void Admit(IReadOnlyList<byte[]> transactions, IActorRef? replyTo, bool forward)
    {
        // Hashed once, here, off the consensus actor's thread; the duplicate checks come first, before the
        // application's signature checks.
        var hashes = new Hash32[transactions.Count];
        for (var i = 0; i < hashes.Length; i++)
        {
            hashes[i] = Block.TransactionHash(transactions[i]);
        }

        var committed = new bool[hashes.Length];
        _setup.FindCommitted(hashes, committed);
        var results = new SubmitResult[transactions.Count];
        var admitted = 0;
        for (var i = 0; i < transactions.Count; i++)
        {
            var verdict = _pool.Contains(hashes[i]) || committed[i] ? default : _setup.Check(transactions[i], hashes[i]);
            var outcome = verdict.Refusal is { } reason
                ? new MempoolAddResult(MempoolAddStatus.Rejected, hashes[i], reason)
                : _pool.Admit(transactions[i], hashes[i], committed[i], verdict.Place);
            results[i] = new SubmitResult(outcome.Hash, outcome.Status, outcome.Reason);
            if (outcome.Status != MempoolAddStatus.Added)
            {
                _setup.Metrics?.Refused(outcome.Status == MempoolAddStatus.Duplicate ? "duplicate" : verdict.Refusal is not null ? "invalid"
                    : outcome.Reason!.StartsWith("mempool is full", StringComparison.Ordinal) ? "full" : "size");
            }

            if (outcome.Status == MempoolAddStatus.Added)
            {
                admitted++;
                if (forward)
                {
                    _toForward.Add(transactions[i]);
                }
            }
        }

        replyTo?.Tell(new SubmitResults(results));
        if (admitted > 0)
        {
            Serve();
            QueueForwarding();
        }

        Count();
    }

    /// <summary>Answers the consensus actor's open request, if any, once something waits.</summary>
    private void Serve()
    {
        if (_demand is not { } demand || _pool.Waiting == 0)
        {
            return;
        }

        _demand = null;
        var (transactions, hashes) = _pool.Hand(demand.MaxTransactions, demand.MaxBytes);
        _consensus.Tell(new Offer(transactions, hashes));
    }

    private void QueueForwarding()
    {
        if (_toForward.Count >= FlushAt)
        {
            Flush();
        }
        else if (_toForward.Count > 0 && !_flushQueued)
        {
            // Behind whatever is already in the mailbox: under load the batch grows with every submission queued
            // before it, and an idle validator forwards at once. (A timer waited up to 10 ms, more than a round at
            // block 1, before the next leader could see a transaction submitted elsewhere.)
            _flushQueued = true;
            Self.Tell(FlushNow.Instance);
        }
    }

    private void Flush()
    {
        _flushQueued = false;
        for (var start = 0; start < _toForward.Count; start += _setup.ForwardBatch)
        {
            var batch = _toForward.GetRange(start, Math.Min(_setup.ForwardBatch, _toForward.Count - start));
            _setup.Directory.Tell(new PeerDirectory.ToAll(new ForwardedTransactions(batch)));
        }

        _toForward.Clear();
    }

    private void Count() => _setup.Counters.Set(_pool.Count, _pool.Waiting);

    public sealed record Attach(IActorRef Consensus);

    /// <summary>
    /// From the consensus actor: room for this many transactions and bytes in its proposal queue; the next
    /// <see cref="Offer"/> fills it. It also says what it did with the last offer's transactions that it did not
    /// queue: <paramref name="GivenUp"/> it holds or has committed already, <paramref name="NoRoom"/> did not fit.
    /// A newer request replaces one still open (the consensus actor asks again when an answer is long overdue).
    /// </summary>
    public sealed record Pull(int MaxTransactions, long MaxBytes, IReadOnlyList<Hash32> GivenUp, IReadOnlyList<Hash32> NoRoom);

    /// <summary>To the consensus actor: the oldest waiting transactions, each with its <see cref="Block.TransactionHash"/>.</summary>
    public sealed record Offer(IReadOnlyList<byte[]> Transactions, IReadOnlyList<Hash32> Hashes);

    private sealed record FlushNow
    {
        public static FlushNow Instance { get; } = new();
    }
}

/// <summary>The mempool's size, for the node's status (written by the mempool actor, read by the consensus actor).</summary>
public sealed class MempoolCounters
{
    private long _pending;
    private long _waiting;

    /// <summary>Admitted and not yet committed, wherever they are on their way to a block.</summary>
    public int Pending => (int)Interlocked.Read(ref _pending);

    /// <summary>Admitted and not yet pulled by the consensus actor.</summary>
    public int Waiting => (int)Interlocked.Read(ref _waiting);

    internal void Set(int pending, int waiting)
    {
        Interlocked.Exchange(ref _pending, pending);
        Interlocked.Exchange(ref _waiting, waiting);
    }
}
