using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// Block sync's bookkeeping for one replica: the fetches in flight (whom each asked, when, how often) and the fetched
/// blocks still waiting for their parent, bounded in count and in bytes. It decides what to ask whom; the replica
/// inserts what connects.
/// </summary>
internal sealed class BlockFetcher(ChainParameters chain, int self, ReplicaOptions options)
{
    private readonly Dictionary<Hash32, (int Attempts, long SentAt, int AskedValidator)> _attempts = [];
    private readonly Dictionary<Hash32, Block> _orphans = [];
    private long _orphanBytes;

    /// <summary>What a block response was: not asked for (or empty), not hash-chained from the request, or taken.</summary>
    public enum Answer
    {
        Unasked,
        Broken,
        Taken,
    }

    /// <summary>
    /// The request for <paramref name="blockId"/>, to its sender if a validator named it, or null when it is asked
    /// for already or too many requests are out.
    /// </summary>
    public ReplicaEffect? Fetch(Hash32 blockId, PeerId? from, long committedHeight, long now)
    {
        if (_attempts.ContainsKey(blockId) || _attempts.Count >= options.MaxOutstandingFetches)
        {
            return null;
        }

        var request = new BlockRequest(blockId, committedHeight, chain.Limits.MaxBlocksPerResponse);
        var asked = from is { Value: >= 0 } sender ? sender.Value : ValidatorAfter(self);
        _attempts[blockId] = (0, now, asked);
        return from is { Value: >= 0 } peer ? new Reply(peer, request) : new SendToValidator(asked, request);
    }

    /// <summary>Every step passes here, block responses during a catch-up included: looks before copying the fetches.</summary>
    public bool AnyOverdue(long now) => _attempts.Count > 0 && _attempts.Values.Any(f => now - f.SentAt >= options.FetchRetryMs);

    /// <summary>
    /// Ask another validator for what is still missing: all of it on a round timer, and otherwise each fetch whose answer
    /// is overdue. A validator that follows the rounds from others' certificates never times out, and a request or
    /// answer lost on a link that reset would otherwise be waited for forever. Give up after every peer was asked twice.
    /// </summary>
    public List<ReplicaEffect> Retry(bool overdueOnly, long committedHeight, long now)
    {
        var requests = new List<ReplicaEffect>();
        foreach (var (blockId, (attempts, sentAt, asked)) in _attempts.ToList())
        {
            if (overdueOnly && now - sentAt < options.FetchRetryMs)
            {
                continue;
            }

            if (attempts >= 2 * chain.Validators.Count)
            {
                _attempts.Remove(blockId);
                continue;
            }

            var next = ValidatorAfter(asked);
            _attempts[blockId] = (attempts + 1, now, next);
            requests.Add(new SendToValidator(next, new BlockRequest(blockId, committedHeight, chain.Limits.MaxBlocksPerResponse)));
        }

        return requests;
    }

    /// <summary>
    /// Fetched blocks are trusted by hash only: the first must be the block asked for (named by a verified QC or by
    /// a hash chain from one), and each next one the parent of the one before. Those above <paramref name="rootHeight"/>
    /// are kept as orphans while there is room.
    /// </summary>
    public Answer Accept(BlockResponse response, long rootHeight)
    {
        if (!_attempts.ContainsKey(response.RequestedId) || response.Blocks.Count == 0)
        {
            return Answer.Unasked;
        }

        var expected = response.RequestedId;
        foreach (var block in response.Blocks)
        {
            if (block.Id != expected || !block.BodyMatchesHeader())
            {
                return Answer.Broken;
            }

            expected = block.ParentId;
        }

        _attempts.Remove(response.RequestedId);
        foreach (var block in response.Blocks)
        {
            if (_orphans.Count < options.MaxOrphanBlocks && _orphanBytes + block.EncodedSize <= options.MaxOrphanBytes
                && block.Height > rootHeight && _orphans.TryAdd(block.Id, block))
            {
                _orphanBytes += block.EncodedSize;
            }
        }

        return Answer.Taken;
    }

    public List<Block> OrphansInHeightOrder() => [.. _orphans.Values.OrderBy(b => b.Height).ThenBy(b => b.Id)];

    public void RemoveOrphan(Block block)
    {
        if (_orphans.Remove(block.Id))
        {
            _orphanBytes -= block.EncodedSize;
        }
    }

    /// <summary>
    /// The first block below <paramref name="highQcBlock"/> that is neither in the tree nor held as an orphan, or null
    /// when the chain down to the tree is complete. Sync follows the certified chain, not the lowest orphan: an orphan
    /// of an abandoned fork may have a parent no peer keeps any more, and asking for it again and again would stall
    /// sync for good. When the orphans fill up, those off the certified chain make room.
    /// </summary>
    public Hash32? MissingAncestorOf(Hash32 highQcBlock, Func<Hash32, bool> inTree)
    {
        var onChain = new HashSet<Hash32>();
        var id = highQcBlock;
        while (_orphans.TryGetValue(id, out var orphan))
        {
            onChain.Add(id);
            id = orphan.ParentId;
        }

        if (_orphans.Count >= options.MaxOrphanBlocks)
        {
            foreach (var offChain in _orphans.Values.Where(b => !onChain.Contains(b.Id)).ToList())
            {
                RemoveOrphan(offChain);
            }
        }

        return inTree(id) ? null : id;
    }

    /// <summary>The next validator after <paramref name="validator"/> in index order, never this one.</summary>
    private int ValidatorAfter(int validator)
    {
        var n = chain.Validators.Count;
        var next = (validator + 1) % n;
        return next == self && n > 1 ? (next + 1) % n : next;
    }
}
