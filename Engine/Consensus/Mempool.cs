using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

public enum MempoolAddStatus
{
    Added,
    Duplicate,
    Rejected,
}

public readonly record struct MempoolAddResult(MempoolAddStatus Status, Hash32 Hash, string? Reason);

/// <summary>
/// Transactions waiting for a block, in arrival order, de-duplicated by hash and bounded by count and bytes.
/// Proposing does not remove a transaction; committing does. So a transaction in a block of an abandoned fork is
/// still here for the next leader, and nothing accepted is ever dropped silently.
/// </summary>
public sealed class Mempool(int maxTransactions, long maxBytes, int maxTransactionBytes)
{
    private readonly Dictionary<Hash32, LinkedListNode<(Hash32 Hash, byte[] Bytes)>> _byHash = [];
    private readonly LinkedList<(Hash32 Hash, byte[] Bytes)> _queue = new();

    public int Count => _byHash.Count;

    public long Bytes { get; private set; }

    public bool Contains(Hash32 hash) => _byHash.ContainsKey(hash);

    /// <summary>The transactions held, oldest first: what a validator hands to its next epoch's replica.</summary>
    public IEnumerable<byte[]> Pending => _queue.Select(entry => entry.Bytes);

    public MempoolAddResult Add(byte[] transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return Add(transaction, Block.TransactionHash(transaction));
    }

    /// <summary>
    /// Each transaction as <see cref="Add(byte[])"/> takes it, in order, except those <paramref name="store"/> holds
    /// committed, which are found in one batch: a store whose lookups miss the cache overlaps them. Each hash must be
    /// its transaction's <see cref="Block.TransactionHash"/>, computed by the caller (off the consensus thread).
    /// </summary>
    public MempoolAddResult[] AddUncommitted(IReadOnlyList<byte[]> transactions, IReadOnlyList<Hash32> hashes, ICommittedBlockStore store)
    {
        ArgumentNullException.ThrowIfNull(transactions);
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentNullException.ThrowIfNull(store);
        if (hashes.Count != transactions.Count)
        {
            throw new ArgumentException($"{transactions.Count} transactions and {hashes.Count} hashes.", nameof(hashes));
        }

        foreach (var transaction in transactions)
        {
            ArgumentNullException.ThrowIfNull(transaction, nameof(transactions));
        }

        var committed = new bool[hashes.Count];
        store.FindCommitted([.. hashes], committed);
        var results = new MempoolAddResult[hashes.Count];
        for (var i = 0; i < hashes.Count; i++)
        {
            results[i] = committed[i]
                ? new MempoolAddResult(MempoolAddStatus.Duplicate, hashes[i], "transaction is already committed")
                : Add(transactions[i], hashes[i]);
        }

        return results;
    }

    /// <summary>For a caller that has just hashed the transaction itself: <paramref name="hash"/> must be its <see cref="Block.TransactionHash"/>.</summary>
    internal MempoolAddResult Add(byte[] transaction, Hash32 hash)
    {
        if (_byHash.ContainsKey(hash))
        {
            return new MempoolAddResult(MempoolAddStatus.Duplicate, hash, "transaction is already pending");
        }

        if (transaction.Length == 0 || transaction.Length > maxTransactionBytes)
        {
            return new MempoolAddResult(MempoolAddStatus.Rejected, hash, $"transaction of {transaction.Length} bytes; the limit is 1 to {maxTransactionBytes}");
        }

        if (_byHash.Count >= maxTransactions || Bytes + transaction.Length > maxBytes)
        {
            return new MempoolAddResult(MempoolAddStatus.Rejected, hash,
                $"mempool is full ({_byHash.Count} transactions, {Bytes} bytes; limits {maxTransactions} and {maxBytes}); retry later");
        }

        Enqueue(hash, transaction);
        return new MempoolAddResult(MempoolAddStatus.Added, hash, null);
    }

    /// <summary>
    /// Puts back transactions of blocks that were proposed but will never commit. They were accepted once, by this
    /// node or by the leader that proposed them, so they go back even past the bounds.
    /// </summary>
    public void Return(IEnumerable<byte[]> transactions, Func<Hash32, bool> isCommitted)
    {
        ArgumentNullException.ThrowIfNull(transactions);
        ArgumentNullException.ThrowIfNull(isCommitted);
        foreach (var transaction in transactions)
        {
            var hash = Block.TransactionHash(transaction);
            if (!_byHash.ContainsKey(hash) && !isCommitted(hash))
            {
                Enqueue(hash, transaction);
            }
        }
    }

    public void RemoveCommitted(IEnumerable<Hash32> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        foreach (var hash in hashes)
        {
            if (_byHash.Remove(hash, out var node))
            {
                Bytes -= node.Value.Bytes.Length;
                _queue.Remove(node);
            }
        }
    }

    /// <summary>The oldest transactions that fit the bounds and are not excluded (e.g. already in an uncommitted ancestor).</summary>
    public List<byte[]> Select(int maxCount, long maxTotalBytes, Func<Hash32, bool> exclude)
    {
        ArgumentNullException.ThrowIfNull(exclude);
        var selected = new List<byte[]>();
        long total = 0;
        for (var node = _queue.First; node is not null && selected.Count < maxCount; node = node.Next)
        {
            var (hash, bytes) = node.Value;
            if (total + bytes.Length + 4 > maxTotalBytes)
            {
                break;
            }

            if (!exclude(hash))
            {
                selected.Add(bytes);
                total += bytes.Length + 4;
            }
        }

        return selected;
    }

    private void Enqueue(Hash32 hash, byte[] transaction)
    {
        _byHash[hash] = _queue.AddLast((hash, transaction));
        Bytes += transaction.Length;
    }
}
