using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// A validator's admitted transactions until they commit, bounded by count and bytes: the mempool actor's, which
/// admits and forwards them and hands them, oldest first, to the consensus actor when it asks. A handed transaction
/// stays counted here (and refused as a duplicate) until it commits or the consensus actor gives it up, so the
/// bounds hold for everything this validator has taken on, wherever it is on its way to a block.
/// </summary>
public sealed class TransactionPool(int maxTransactions, long maxBytes, int maxTransactionBytes)
{
    private readonly Dictionary<Hash32, Entry> _entries = [];
    private readonly LinkedList<Hash32> _waiting = new();

    public int Count => _entries.Count;

    public long Bytes { get; private set; }

    /// <summary>Admitted and not yet handed to the consensus actor.</summary>
    public int Waiting => _waiting.Count;

    public bool Contains(Hash32 hash) => _entries.ContainsKey(hash);

    /// <summary>
    /// Admits a transaction that passed the application's check. <paramref name="hash"/> must be its
    /// <see cref="Block.TransactionHash"/>; <paramref name="committed"/> says whether the chain already holds it.
    /// </summary>
    public MempoolAddResult Admit(byte[] transaction, Hash32 hash, bool committed)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (_entries.ContainsKey(hash))
        {
            return new MempoolAddResult(MempoolAddStatus.Duplicate, hash, "transaction is already pending");
        }

        if (committed)
        {
            return new MempoolAddResult(MempoolAddStatus.Duplicate, hash, "transaction is already committed");
        }

        if (transaction.Length == 0 || transaction.Length > maxTransactionBytes)
        {
            return new MempoolAddResult(MempoolAddStatus.Rejected, hash, $"transaction of {transaction.Length} bytes; the limit is 1 to {maxTransactionBytes}");
        }

        if (_entries.Count >= maxTransactions || Bytes + transaction.Length > maxBytes)
        {
            return new MempoolAddResult(MempoolAddStatus.Rejected, hash,
                $"mempool is full ({_entries.Count} transactions, {Bytes} bytes; limits {maxTransactions} and {maxBytes}); retry later");
        }

        _entries[hash] = new Entry(transaction, _waiting.AddLast(hash));
        Bytes += transaction.Length;
        return new MempoolAddResult(MempoolAddStatus.Added, hash, null);
    }

    /// <summary>
    /// The oldest waiting transactions, at least one if any wait, then as many as fit <paramref name="maxCount"/> and
    /// <paramref name="maxBytes"/>; they count as handed from now on.
    /// </summary>
    public (List<byte[]> Transactions, List<Hash32> Hashes) Hand(int maxCount, long maxBytes)
    {
        var transactions = new List<byte[]>();
        var hashes = new List<Hash32>();
        long total = 0;
        while (_waiting.First is { } first && transactions.Count < maxCount)
        {
            var entry = _entries[first.Value];
            if (transactions.Count > 0 && total + entry.Bytes.Length > maxBytes)
            {
                break;
            }

            _waiting.RemoveFirst();
            entry.Waiting = null;
            transactions.Add(entry.Bytes);
            hashes.Add(first.Value);
            total += entry.Bytes.Length;
        }

        return (transactions, hashes);
    }

    /// <summary>Handed transactions the consensus actor could not take (its queue was full): first in line again.</summary>
    public void TakeBack(IEnumerable<Hash32> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        foreach (var hash in hashes.Reverse())
        {
            if (_entries.TryGetValue(hash, out var entry) && entry.Waiting is null)
            {
                entry.Waiting = _waiting.AddFirst(hash);
            }
        }
    }

    /// <summary>Committed, or given up by the consensus actor (it holds or committed the same transaction already).</summary>
    public void Remove(IEnumerable<Hash32> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        foreach (var hash in hashes)
        {
            if (_entries.Remove(hash, out var entry))
            {
                Bytes -= entry.Bytes.Length;
                if (entry.Waiting is { } node)
                {
                    _waiting.Remove(node);
                }
            }
        }
    }

    private sealed class Entry(byte[] bytes, LinkedListNode<Hash32> waiting)
    {
        public byte[] Bytes { get; } = bytes;

        /// <summary>Its place in the waiting line; null while the consensus actor holds it.</summary>
        public LinkedListNode<Hash32>? Waiting { get; set; } = waiting;
    }
}
