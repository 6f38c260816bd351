using System.Collections.Concurrent;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Chain;

/// <summary>
/// Which transactions are committed, for the replica's checks on every transaction it admits, proposes or receives.
/// A Bloom filter answers most; hashes of blocks committed but not yet in the index's files are held in memory; the
/// files answer the rest. A writer thread indexes committed blocks in batches, so a commit writes one row and never
/// waits for the index. Answers are exact at all times: a hash leaves memory only once a
/// transaction that holds it in the index has committed.
/// </summary>
internal sealed class CommittedTransactionIndex : IDisposable
{
    private const int FlushHashes = 50_000;
    // Each batch becomes a run of the index that later merges: larger batches make fewer runs to merge and to ask.
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(2);

    private readonly TransactionIndexFiles _files;
    private readonly HashFilter _filter = new(HashFilter.DefaultBits);
    private readonly HashSet<Hash32> _unindexed = [];
    private readonly Queue<(long Height, IReadOnlyList<Hash32> Hashes)> _pending = new();
    private readonly ConcurrentQueue<(long Height, IReadOnlyList<Hash32> Hashes)> _toWrite = new();
    private readonly object _gate = new();
    private readonly Thread _writer;
    private long _indexedHeight;
    private int _queuedHashes;
    private bool _stopping;
    private volatile Exception? _failure;

    /// <param name="files">The index's files, which this index owns from now on: the consensus thread looks up in them and the writer thread adds to them.</param>
    /// <param name="tail">Committed blocks above the files' indexed height, in height order: what a crash left unindexed.</param>
    public CommittedTransactionIndex(TransactionIndexFiles files, IEnumerable<(long Height, IReadOnlyList<Hash32> Hashes)> tail)
    {
        _files = files;
        _indexedHeight = files.ForEachHash(hash => _filter.Add(new Hash32(hash)));
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "idos-transaction-index" };
        _writer.Start();
        foreach (var (height, hashes) in tail)
        {
            Committed(height, hashes);
        }
    }

    /// <summary>
    /// Records a committed block's hashes; throws if the writer failed, so the node stops rather than grow memory
    /// without bound. With <paramref name="stored"/> false the block is not yet durable in the block store (a write
    /// batch is open), so it is answered from memory but not indexed until <see cref="Stored"/>: an index ahead of
    /// the block store would make the block's second commit after a crash impossible to index.
    /// </summary>
    public void Committed(long height, IReadOnlyList<Hash32> hashes, bool stored = true)
    {
        if (_failure is { } failure)
        {
            throw new InvalidOperationException($"The transaction index could not be written: {failure.Message}", failure);
        }

        ReleaseIndexed();
        lock (_unindexed)
        {
            foreach (var hash in hashes)
            {
                _filter.Add(hash);
                _unindexed.Add(hash);
            }
        }

        _pending.Enqueue((height, hashes));
        if (stored)
        {
            Stored(height, hashes);
        }
    }

    /// <summary>The block store made a block given to <see cref="Committed"/> durable: the writer may index it.</summary>
    public void Stored(long height, IReadOnlyList<Hash32> hashes)
    {
        _toWrite.Enqueue((height, hashes));
        if (Interlocked.Add(ref _queuedHashes, hashes.Count) >= FlushHashes)
        {
            WakeWriter();
        }
    }

    /// <summary>
    /// The block store rolled back blocks above <paramref name="height"/> before they were stored: their hashes are
    /// no longer committed. (The filter keeps their bits; it only ever answers "maybe".)
    /// </summary>
    public void RolledBack(long height)
    {
        var kept = new Queue<(long Height, IReadOnlyList<Hash32> Hashes)>();
        foreach (var block in _pending)
        {
            if (block.Height <= height)
            {
                kept.Enqueue(block);
                continue;
            }

            lock (_unindexed)
            {
                foreach (var hash in block.Hashes)
                {
                    _unindexed.Remove(hash);
                }
            }
        }

        _pending.Clear();
        foreach (var block in kept)
        {
            _pending.Enqueue(block);
        }
    }

    public bool Contains(Hash32 hash) => _filter.MayContain(hash) && IsCommitted(hash);

    /// <summary>
    /// <see cref="Contains"/> for a batch: the filter is asked for all of them first, then the few it cannot rule out are
    /// looked up. Safe on another thread than the consensus thread's (the mempool actor's): the hashes in memory are
    /// read under a lock and the files lock their own reads; the filter's words are read while the consensus thread may
    /// set bits, so a hash committed at that moment may be missed, which only that moment's answer could tell anyway.
    /// </summary>
    public void FindCommitted(ReadOnlySpan<Hash32> hashes, Span<bool> committed)
    {
        _filter.MayContainAll(hashes, committed);
        for (var i = 0; i < hashes.Length; i++)
        {
            committed[i] = committed[i] && IsCommitted(hashes[i]);
        }
    }

    /// <summary>Whether a hash the filter could not rule out is committed: in memory above the indexed height, or in the files.</summary>
    private bool IsCommitted(Hash32 hash)
    {
        lock (_unindexed)
        {
            if (_unindexed.Contains(hash))
            {
                return true;
            }
        }

        Span<byte> bytes = stackalloc byte[Hash32.Size];
        hash.WriteTo(bytes);
        return _files.ContainsTransaction(bytes);
    }

    /// <summary>How many transactions are committed: the files up to their indexed height, and memory above it.</summary>
    public long Count()
    {
        var (indexed, count) = _files.Counted();
        return count + _pending.Where(p => p.Height > indexed).Sum(p => (long)p.Hashes.Count);
    }

    /// <summary>Every committed hash, counted once, however far the writer got.</summary>
    public List<Hash32> All()
    {
        var all = new List<Hash32>();
        var indexed = _files.ForEachHash(hash => all.Add(new Hash32(hash)));
        all.AddRange(_pending.Where(p => p.Height > indexed).SelectMany(p => p.Hashes));
        return all;
    }

    /// <summary>Lets the writer index what is left, so that a clean stop leaves nothing for the next start to rebuild.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
        }

        WakeWriter();
        _writer.Join();
        _files.Dispose();
    }

    private void WakeWriter()
    {
        lock (_gate)
        {
            Monitor.Pulse(_gate);
        }
    }

    private void ReleaseIndexed()
    {
        var indexed = Volatile.Read(ref _indexedHeight);
        while (_pending.Count > 0 && _pending.Peek().Height <= indexed)
        {
            var block = _pending.Dequeue();
            lock (_unindexed)
            {
                foreach (var hash in block.Hashes)
                {
                    _unindexed.Remove(hash);
                }
            }
        }
    }

    /// <summary>
    /// Wakes every <see cref="FlushInterval"/>, or early when many hashes wait, and indexes what was queued. The
    /// consensus thread only queues: waking this thread for every block (a blocking collection did) cost more CPU at
    /// block size 1, in the wake-up and the semaphore's spinning, than the index writes themselves.
    /// </summary>
    private void WriteLoop()
    {
        try
        {
            var batch = new List<(long Height, ReadOnlyMemory<byte> Hashes)>();
            var stopping = false;
            while (!stopping)
            {
                lock (_gate)
                {
                    stopping = _stopping;
                    if (!stopping)
                    {
                        Monitor.Wait(_gate, FlushInterval);
                        stopping = _stopping;
                    }
                }

                while (_toWrite.TryDequeue(out var block))
                {
                    batch.Add((block.Height, Packed(block.Hashes)));
                    Interlocked.Add(ref _queuedHashes, -block.Hashes.Count);
                }

                Flush(batch, merge: !stopping);
            }
        }
#pragma warning disable CA1031 // An exception escaping this thread would kill the process; the next commit reports it instead.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _failure = e;
        }
    }

    private static byte[] Packed(IReadOnlyList<Hash32> hashes)
    {
        var packed = new byte[hashes.Count * Hash32.Size];
        for (var i = 0; i < hashes.Count; i++)
        {
            hashes[i].WriteTo(packed.AsSpan(i * Hash32.Size));
        }

        return packed;
    }

    /// <summary>
    /// Indexes the batch, lets the consensus thread drop its hashes from memory, and only then merges runs — not while
    /// the node stops, which a merge of millions of hashes would hold up for seconds; the batches after the next start do.
    /// </summary>
    private void Flush(List<(long Height, ReadOnlyMemory<byte> Hashes)> batch, bool merge)
    {
        if (batch.Count == 0)
        {
            return;
        }

        _files.IndexTransactions(batch);
        Volatile.Write(ref _indexedHeight, batch[^1].Height);
        batch.Clear();
        if (merge)
        {
            _files.Compact();
        }
    }
}
