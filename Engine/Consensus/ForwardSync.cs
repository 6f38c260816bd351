namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// Catching up by height, for a validator far behind the certificates it sees: ranges of committed blocks are asked
/// from several peers at once (each range from the next validator in turn), and handed to the replica in height
/// order as they connect to what it has. A range that arrives ahead of the chain waits, within a window of ranges; one
/// unanswered or refused is asked of the next peer. Nothing here is trusted: the replica inserts a block only under
/// a verified QC for it, carried by the block after it, so the last block of each range waits for the next range.
/// Walking back from the newest block instead would hold every block in memory until the chain connects.
/// </summary>
internal sealed class ForwardSync(ChainParameters chain, int self, ReplicaOptions options)
{
    private readonly SortedDictionary<long, InFlight> _inFlight = [];
    private readonly SortedDictionary<long, (BlockRangeResponse Range, PeerId Sender)> _arrived = [];
    private long _nextFrom;
    private int _lastAsked = -1;

    private int RangeBlocks => chain.Limits.MaxBlocksPerResponse;

    /// <summary>Whether ranges are being fetched or wait to be inserted.</summary>
    public bool IsActive => _inFlight.Count > 0 || _arrived.Count > 0;

    /// <summary>
    /// Up to where the peers have pruned bodies, once every other validator has answered that it pruned the next range:
    /// block sync cannot go on.
    /// </summary>
    public long? PrunedEverywhere { get; private set; }

    /// <summary>
    /// Asks for ranges from <paramref name="fromHeight"/> (the height after the last committed one) until the window is
    /// full; each request goes to the next validator after the one asked last.
    /// </summary>
    public List<ReplicaEffect> Request(long fromHeight, long now)
    {
        _nextFrom = Math.Max(_nextFrom, fromHeight);
        foreach (var stale in _inFlight.Keys.Where(from => from + RangeBlocks <= fromHeight).ToList())
        {
            _inFlight.Remove(stale);
        }

        var requests = new List<ReplicaEffect>();
        while (_inFlight.Count + _arrived.Count < options.ForwardSyncWindow)
        {
            var to = NextValidator(_lastAsked);
            _lastAsked = to;
            _inFlight[_nextFrom] = new InFlight(to, now, 0);
            requests.Add(new SendToValidator(to, new BlockRangeRequest(_nextFrom, RangeBlocks)));
            _nextFrom += RangeBlocks;
        }

        return requests;
    }

    /// <summary>
    /// A range answered. Kept when it was asked for and is well formed (consecutive heights from the one asked, each
    /// block the child of the one before, bodies matching headers); else the reason to reject the sender. An empty
    /// answer from a peer that pruned the range passes it to the next validator at once, one from a peer not that far
    /// yet after the retry time; when every other validator has answered that it pruned the range,
    /// <see cref="PrunedEverywhere"/> says so.
    /// </summary>
    public (string? Rejection, List<ReplicaEffect> Requests) Accept(PeerId from, BlockRangeResponse response, long now)
    {
        if (!_inFlight.TryGetValue(response.FromHeight, out var asked) || asked.Validator != from.Value)
        {
            return (null, []);
        }

        if (response.Blocks.Count == 0)
        {
            if (response.PrunedHeight < response.FromHeight)
            {
                // The peer has not committed that far (yet): asked again, of the next validator, after the retry time.
                _inFlight[response.FromHeight] = asked with { SentAt = now };
                return (null, []);
            }

            var prunedBy = asked.PrunedBy + 1;
            if (prunedBy >= chain.Validators.Count - 1)
            {
                PrunedEverywhere = response.PrunedHeight;
                _inFlight.Remove(response.FromHeight);
                return (null, []);
            }

            return (null, [Reask(response.FromHeight, asked with { PrunedBy = prunedBy }, now)]);
        }

        for (var i = 0; i < response.Blocks.Count; i++)
        {
            var block = response.Blocks[i];
            if (block.Height != response.FromHeight + i || (i > 0 && block.ParentId != response.Blocks[i - 1].Id) || !block.BodyMatchesHeader())
            {
                return ($"block range from height {response.FromHeight} is not a chain of consecutive heights: block {i} breaks it",
                    [Reask(response.FromHeight, asked, now)]);
            }
        }

        _inFlight.Remove(response.FromHeight);
        _arrived[response.FromHeight] = (response, from);
        return (null, []);
    }

    /// <summary>
    /// The arrived ranges that reach down to <paramref name="nextHeight"/>, in order, each with its sender; those
    /// wholly below it are dropped.
    /// </summary>
    public List<(BlockRangeResponse Range, PeerId Sender)> TakeConnecting(long nextHeight)
    {
        var ready = new List<(BlockRangeResponse Range, PeerId Sender)>();
        foreach (var (fromHeight, (range, sender)) in _arrived.ToList())
        {
            var end = fromHeight + range.Blocks.Count;
            if (end <= nextHeight)
            {
                _arrived.Remove(fromHeight);
                continue;
            }

            if (fromHeight > nextHeight)
            {
                break;
            }

            _arrived.Remove(fromHeight);
            ready.Add((range, sender));
            nextHeight = end;
        }

        return ready;
    }

    /// <summary>Ranges unanswered for the fetch retry time are asked of the next validator.</summary>
    public List<ReplicaEffect> RetryOverdue(long now) =>
    [
        .. _inFlight.Where(f => now - f.Value.SentAt >= options.FetchRetryMs).ToList()
            .Select(f => Reask(f.Key, f.Value, now)),
    ];

    /// <summary>Forgets every range (the chain has caught up, or the ranges asked are no longer where it goes on).</summary>
    public void Stop()
    {
        _inFlight.Clear();
        _arrived.Clear();
        _nextFrom = 0;
    }

    private SendToValidator Reask(long fromHeight, InFlight asked, long now)
    {
        var to = NextValidator(asked.Validator);
        _inFlight[fromHeight] = asked with { Validator = to, SentAt = now };
        return new SendToValidator(to, new BlockRangeRequest(fromHeight, RangeBlocks));
    }

    private int NextValidator(int validator)
    {
        var n = chain.Validators.Count;
        var next = (validator + 1) % n;
        return next == self && n > 1 ? (next + 1) % n : next;
    }

    private sealed record InFlight(int Validator, long SentAt, int PrunedBy);
}
