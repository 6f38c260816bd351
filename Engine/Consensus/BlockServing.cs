using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// How a validator answers a block request: the requested block and its ancestors, newest first, down to the
/// requester's committed height, within the block count and the message size. Shared by the replica (which also
/// holds uncommitted blocks) and the sync actor (which serves the committed chain off the consensus thread).
/// </summary>
public static class BlockServing
{
    public static BlockResponse Answer(BlockRequest request, ConsensusLimits limits, Func<Hash32, Block?> find)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(find);
        var blocks = new List<Block>();
        var budget = limits.MaxMessageBytes - (64 << 10);
        var limit = Math.Min(request.MaxBlocks, limits.MaxBlocksPerResponse);
        var block = find(request.BlockId);
        while (block is not null && block.Height > request.KnownCommittedHeight && blocks.Count < limit)
        {
            budget -= block.EncodedSize;
            if (budget < 0 && blocks.Count > 0)
            {
                break;
            }

            blocks.Add(block);
            block = block.Height == 0 ? null : find(block.ParentId);
        }

        return new BlockResponse(request.BlockId, blocks);
    }

    /// <summary>
    /// Committed blocks by height from the request's, ascending, within the block count and the message size; none
    /// past the committed height or at a height whose body is pruned (then the response says up to where bodies are
    /// pruned, which <paramref name="prunedHeight"/> is asked for only then).
    /// </summary>
    public static BlockRangeResponse AnswerRange(BlockRangeRequest request, ConsensusLimits limits, long committedHeight, Func<long> prunedHeight,
        Func<long, Block?> atHeight)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(prunedHeight);
        ArgumentNullException.ThrowIfNull(atHeight);
        var blocks = ByHeight(request.FromHeight, Math.Min(request.MaxBlocks, limits.MaxBlocksPerResponse), limits, committedHeight, atHeight,
            block => block.EncodedSize);
        var pruned = blocks.Count == 0 && request.FromHeight >= 1 && request.FromHeight <= committedHeight ? prunedHeight() : 0;
        return new BlockRangeResponse(request.FromHeight, pruned, blocks);
    }

    /// <summary>
    /// Headers (with transaction hashes) of committed heights from the request's, within the count and the message
    /// size, up to the end of the first header's epoch; when they reach it, with the transition into the next epoch
    /// if <paramref name="transitionAfter"/> has it (the proof and the set in the message count towards its size).
    /// Asked from a later epoch than the asker's, the transition alone.
    /// </summary>
    public static HeaderRangeResponse AnswerHeaders(HeaderRangeRequest request, ConsensusLimits limits, long committedHeight, Func<long, PrunedBlock?> headerAt,
        Func<long, EpochTransition?> transitionAfter)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(headerAt);
        ArgumentNullException.ThrowIfNull(transitionAfter);
        if (request.FromHeight < 1 || request.FromHeight > committedHeight || headerAt(request.FromHeight) is not { } first)
        {
            return new HeaderRangeResponse(request.FromHeight, []);
        }

        var epoch = first.Header.Epoch;
        if (request.Epoch < epoch)
        {
            // The asker has the headers up to its epoch's end but not the transition (the peer that sent them had
            // none): that alone comes first, if the height asked is the next epoch's first.
            var endsAskersEpoch = headerAt(request.FromHeight - 1) is { } before && before.Header.Epoch == request.Epoch && epoch == request.Epoch + 1;
            return new HeaderRangeResponse(request.FromHeight, []) { Transition = endsAskersEpoch ? transitionAfter(request.Epoch) : null };
        }

        var transition = transitionAfter(epoch);
        var headers = ByHeight(request.FromHeight, Math.Min(request.MaxHeaders, HeaderRangeRequest.Limit), limits, committedHeight, headerAt,
            header => 1_024 + (header.TransactionHashes.Count * Hash32.Size), reserved: transition is null ? 0 : ConsensusCodec.SizeOf(transition));
        var end = headers.FindIndex(h => h.Header.Epoch != epoch);
        if (end >= 0)
        {
            headers.RemoveRange(end, headers.Count - end);
        }

        var last = headers[^1].Header;
        var endsEpoch = end >= 0 || (last.Height < committedHeight && headerAt(last.Height + 1)?.Header.Epoch > epoch);
        return new HeaderRangeResponse(request.FromHeight, headers) { Transition = endsEpoch ? transition : null };
    }

    /// <summary>What <paramref name="at"/> gives for consecutive committed heights from <paramref name="from"/>, up to a count and the message size.</summary>
    private static List<T> ByHeight<T>(long from, int limit, ConsensusLimits limits, long committedHeight, Func<long, T?> at, Func<T, int> size,
        int reserved = 0)
        where T : class
    {
        var items = new List<T>();
        var budget = limits.MaxMessageBytes - (64 << 10) - reserved;
        for (var height = from; height >= 1 && height <= committedHeight && items.Count < limit; height++)
        {
            if (at(height) is not { } item)
            {
                break;
            }

            budget -= size(item);
            if (budget < 0 && items.Count > 0)
            {
                break;
            }

            items.Add(item);
        }

        return items;
    }
}
