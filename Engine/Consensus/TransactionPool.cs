using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// A validator's admitted transactions until they commit, bounded by count and bytes: the mempool actor's, which
/// admits and forwards them and hands them, oldest first, to the consensus actor when it asks. A handed transaction
/// stays counted here (and refused as a duplicate) until it commits or the consensus actor gives it up, so the
/// bounds hold for everything this validator has taken on, wherever it is on its way to a block.
/// <para>
/// Where the application puts a transaction in its sender's line (<see cref="SenderNonce"/>), it is handed only in
/// nonce order: a sender's transactions execute in that order and one whose predecessor is missing fails for good, and
/// a validator can lack a predecessor the others hold (it was down when it was forwarded). A sender's line starts at
/// the nonce the state expects next and moves on with every nonce handed; a transaction past a gap is held until the
/// gap closes here or <see cref="Refresh"/> reports the state past it. A nonce already used is handed at once, to fail
/// with its result rather than wait for ever. The consensus actor proposes in the order it was handed, so the blocks
/// keep each sender's order.
/// </para>
/// </summary>
/// <param name="maxTransactions">At most this many transactions admitted and not yet committed.</param>
/// <param name="maxBytes">At most this many bytes of them.</param>
/// <param name="maxTransactionBytes">The largest transaction a block may carry.</param>
/// <param name="nextNonce">The nonce the state expects next from a sender, or null if it cannot tell (the line then starts at the nonce seen first).</param>
public sealed class TransactionPool(int maxTransactions, long maxBytes, int maxTransactionBytes, Func<string, ulong?>? nextNonce = null)
{
    private readonly Dictionary<Hash32, Entry> _entries = [];
    private readonly LinkedList<Hash32> _waiting = new();
    private readonly Dictionary<string, Line> _lines = new(StringComparer.Ordinal);
    private readonly LinkedList<Line> _holding = new();

    public int Count => _entries.Count;

    public long Bytes { get; private set; }

    /// <summary>Admitted and not yet handed to the consensus actor, nor held back for a missing nonce.</summary>
    public int Waiting => _waiting.Count;

    /// <summary>Held back for an earlier nonce of their sender.</summary>
    public int Held { get; private set; }

    /// <summary>
    /// Up to <paramref name="max"/> of the senders with transactions held back, to ask the state about; each call
    /// takes the next ones in turn, so a bounded number of reads per call reaches every sender in time.
    /// </summary>
    public List<string> HoldingSenders(int max)
    {
        var senders = new List<string>();
        for (var i = 0; i < max && i < _holding.Count; i++)
        {
            var node = _holding.First!;
            senders.Add(node.Value.Sender);
            _holding.RemoveFirst();
            _holding.AddLast(node);
        }

        return senders;
    }

    public bool Contains(Hash32 hash) => _entries.ContainsKey(hash);

    public IEnumerable<Hash32> Hashes => _entries.Keys;

    /// <summary>
    /// Admits a transaction that passed the application's check. <paramref name="hash"/> must be its
    /// <see cref="Block.TransactionHash"/>; <paramref name="committed"/> says whether the chain already holds it.
    /// </summary>
    public MempoolAddResult Admit(byte[] transaction, Hash32 hash, bool committed, SenderNonce? place = null)
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

        var entry = new Entry(transaction, place is { } p && nextNonce is not null ? LineOf(p) : null, place?.Nonce ?? 0);
        _entries[hash] = entry;
        Bytes += transaction.Length;
        if (entry.Line is not { } line)
        {
            entry.Waiting = _waiting.AddLast(hash);
        }
        else if (entry.Nonce > line.Expected)
        {
            Hold(line, entry.Nonce, hash);
        }
        else
        {
            entry.Waiting = _waiting.AddLast(hash);
            if (entry.Nonce == line.Expected)
            {
                line.Expected++;
                Release(line);
            }
        }

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
            if (_entries.TryGetValue(hash, out var entry) && entry.Waiting is null && !entry.IsHeld)
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
            if (!_entries.Remove(hash, out var entry))
            {
                continue;
            }

            Bytes -= entry.Bytes.Length;
            if (entry.Waiting is { } node)
            {
                _waiting.Remove(node);
            }

            if (entry.Line is { } line)
            {
                if (entry.IsHeld)
                {
                    Unhold(line, entry, hash);
                }

                if (--line.Members == 0)
                {
                    _lines.Remove(line.Sender);
                }
            }
        }
    }

    /// <summary>The state now expects <paramref name="next"/> from <paramref name="sender"/>: what it held back up to there goes on.</summary>
    public void Refresh(string sender, ulong next)
    {
        if (_lines.TryGetValue(sender, out var line) && next > line.Expected)
        {
            line.Expected = next;
            Release(line);
        }
    }

    private Line LineOf(SenderNonce place)
    {
        if (!_lines.TryGetValue(place.Sender, out var line))
        {
            line = new Line(place.Sender, nextNonce!(place.Sender) ?? place.Nonce);
            _lines[place.Sender] = line;
        }

        line.Members++;
        return line;
    }

    private void Hold(Line line, ulong nonce, Hash32 hash)
    {
        if (!line.Held.TryGetValue(nonce, out var atNonce))
        {
            line.Held[nonce] = atNonce = [];
        }

        atNonce.Add(hash);
        _entries[hash].IsHeld = true;
        if (line.Holding is null)
        {
            line.Holding = _holding.AddLast(line);
        }

        Held++;
    }

    private void Unhold(Line line, Entry entry, Hash32 hash)
    {
        var atNonce = line.Held[entry.Nonce];
        atNonce.Remove(hash);
        if (atNonce.Count == 0)
        {
            line.Held.Remove(entry.Nonce);
        }

        if (line.Held.Count == 0 && line.Holding is { } holding)
        {
            _holding.Remove(holding);
            line.Holding = null;
        }

        entry.IsHeld = false;
        Held--;
    }

    /// <summary>Moves what the line held up to its expected nonce into the waiting line, in nonce order, closing gaps as it goes.</summary>
    private void Release(Line line)
    {
        while (line.Held.Count > 0 && line.Held.Keys.First() is var nonce && nonce <= line.Expected)
        {
            foreach (var hash in line.Held[nonce].ToArray())
            {
                var entry = _entries[hash];
                Unhold(line, entry, hash);
                entry.Waiting = _waiting.AddLast(hash);
            }

            if (nonce == line.Expected)
            {
                line.Expected++;
            }
        }
    }

    private sealed class Entry(byte[] bytes, Line? line, ulong nonce)
    {
        public byte[] Bytes { get; } = bytes;

        public Line? Line { get; } = line;

        public ulong Nonce { get; } = nonce;

        /// <summary>Its place in the waiting line; null while the consensus actor holds it or it is held back.</summary>
        public LinkedListNode<Hash32>? Waiting { get; set; }

        public bool IsHeld { get; set; }
    }

    /// <summary>A sender's transactions in this pool: the nonce to hand next, and those held back past a gap.</summary>
    private sealed class Line(string sender, ulong expected)
    {
        public string Sender { get; } = sender;

        public ulong Expected { get; set; } = expected;

        public SortedDictionary<ulong, List<Hash32>> Held { get; } = [];

        /// <summary>Its place among the lines holding something back.</summary>
        public LinkedListNode<Line>? Holding { get; set; }

        /// <summary>Its transactions in the pool, wherever they are; the line goes with the last one.</summary>
        public int Members { get; set; }
    }
}
