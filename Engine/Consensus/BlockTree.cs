using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

public enum InsertResult
{
    Inserted,
    AlreadyKnown,
    MissingParent,
    BelowCommitted,
    Rejected,
}

/// <summary>
/// The uncommitted blocks above the last committed block (the root), and the two-chain commit rule over them.
/// Every block in the tree descends from the root; committing moves the root up and drops the forks it abandons.
/// </summary>
public sealed class BlockTree
{
    private readonly Dictionary<Hash32, Block> _blocks = [];

    public BlockTree(Block committedRoot)
    {
        ArgumentNullException.ThrowIfNull(committedRoot);
        Root = committedRoot;
        _blocks[committedRoot.Id] = committedRoot;
    }

    public Block Root { get; private set; }

    public int Count => _blocks.Count;

    public bool Contains(Hash32 id) => _blocks.ContainsKey(id);

    public Block? Get(Hash32 id) => _blocks.GetValueOrDefault(id);

    /// <summary>
    /// Adds a block whose parent is in the tree, after the checks that need the parent: height, round, timestamp,
    /// the QC's round, the executed height, and that no transaction repeats one in the block, in an uncommitted
    /// ancestor or in the committed chain.
    /// </summary>
    public (InsertResult Result, string? Reason) TryInsert(Block block, Func<Hash32, bool> isCommittedTransaction)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(isCommittedTransaction);
        if (_blocks.ContainsKey(block.Id))
        {
            return (InsertResult.AlreadyKnown, null);
        }

        if (block.Height <= Root.Height)
        {
            return (InsertResult.BelowCommitted, $"{block} is at or below the committed height {Root.Height}");
        }

        if (!_blocks.TryGetValue(block.ParentId, out var parent))
        {
            return (InsertResult.MissingParent, null);
        }

        var reason = CheckAgainstParent(block, parent) ?? CheckTransactions(block, parent, isCommittedTransaction);
        if (reason is not null)
        {
            return (InsertResult.Rejected, reason);
        }

        _blocks[block.Id] = block;
        return (InsertResult.Inserted, null);
    }

    /// <summary>
    /// The two-chain rule: a QC for B1 whose parent B0 is from the round just before commits B0
    /// and its uncommitted ancestors. Returns them oldest first, moves the root to B0 and returns the blocks of the
    /// forks this abandons.
    /// </summary>
    public (IReadOnlyList<Block> Committed, IReadOnlyList<Block> Abandoned) CommitFor(QuorumCertificate qc)
    {
        ArgumentNullException.ThrowIfNull(qc);
        if (!_blocks.TryGetValue(qc.BlockId, out var certified)
            || !_blocks.TryGetValue(certified.ParentId, out var parent)
            || parent.Round + 1 != certified.Round
            || parent.Height <= Root.Height)
        {
            return ([], []);
        }

        var committed = PathFromRoot(parent);
        var formerRoot = Root;
        Root = parent;
        var onCommittedPath = committed.Select(b => b.Id).Append(formerRoot.Id).ToHashSet();
        return (committed, [.. Prune().Where(b => !onCommittedPath.Contains(b.Id))]);
    }

    /// <summary>The blocks from just above the root up to <paramref name="tip"/>, oldest first.</summary>
    public List<Block> PathFromRoot(Block tip)
    {
        ArgumentNullException.ThrowIfNull(tip);
        var path = new List<Block>();
        for (var block = tip; block.Id != Root.Id; block = _blocks[block.ParentId])
        {
            path.Add(block);
        }

        path.Reverse();
        return path;
    }

    private static string? CheckAgainstParent(Block block, Block parent)
    {
        var header = block.Header;
        if (header.Height != parent.Height + 1)
        {
            return $"{block} has height {header.Height}; its parent is at {parent.Height}";
        }

        if (header.Justify.Round != parent.Round)
        {
            return $"{block} carries a QC of round {header.Justify.Round} for a parent of round {parent.Round}";
        }

        if (header.Round <= parent.Round)
        {
            return $"{block} does not have a round above its parent's {parent.Round}";
        }

        if (header.Timestamp <= parent.Header.Timestamp)
        {
            return $"{block} has timestamp {header.Timestamp}, not after its parent's {parent.Header.Timestamp}";
        }

        return header.ExecutedHeight > parent.Height
            ? $"{block} claims executed height {header.ExecutedHeight}, beyond its parent's height {parent.Height}"
            : null;
    }

    private string? CheckTransactions(Block block, Block parent, Func<Hash32, bool> isCommittedTransaction)
    {
        if (block.TransactionHashes.Count == 0)
        {
            return null;
        }

        var seen = new HashSet<Hash32>();
        foreach (var hash in block.TransactionHashes)
        {
            if (!seen.Add(hash))
            {
                return $"{block} holds transaction {hash.ToShortString()} twice";
            }

            if (isCommittedTransaction(hash))
            {
                return $"{block} holds transaction {hash.ToShortString()}, which is already committed";
            }
        }

        for (var ancestor = parent; ancestor.Id != Root.Id; ancestor = _blocks[ancestor.ParentId])
        {
            foreach (var hash in ancestor.TransactionHashes)
            {
                if (seen.Contains(hash))
                {
                    return $"{block} holds transaction {hash.ToShortString()}, already in its ancestor {ancestor}";
                }
            }
        }

        return null;
    }

    private List<Block> Prune()
    {
        var kept = new HashSet<Hash32> { Root.Id };
        var abandoned = new List<Block>();
        foreach (var block in _blocks.Values.OrderBy(b => b.Height).ThenBy(b => b.Id))
        {
            if (block.Id == Root.Id)
            {
                continue;
            }

            if (block.Height > Root.Height && kept.Contains(block.ParentId))
            {
                kept.Add(block.Id);
            }
            else
            {
                abandoned.Add(block);
            }
        }

        foreach (var block in abandoned)
        {
            _blocks.Remove(block.Id);
        }

        return abandoned;
    }
}
