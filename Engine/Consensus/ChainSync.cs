using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// A replica's block sync, both ways. Near the chain's head, blocks named by a verified certificate are fetched by id
/// with their ancestors and held until they connect (<see cref="BlockFetcher"/>). Far behind (a QC more than
/// <see cref="ReplicaOptions.ForwardSyncAfterRounds"/> rounds past the committed block), committed blocks are fetched
/// by height from several peers (<see cref="ForwardSync"/>) and inserted in order, each under the verified QC that
/// the block after it carries; the two-chain rule then commits them as it commits any block. It also answers peers'
/// requests for blocks this validator holds but has not committed.
/// </summary>
internal sealed class ChainSync(ChainParameters chain, int self, ReplicaOptions options, SignatureChecks checks, BlockTree tree,
    ICommittedBlockStore store, RoundState state, Func<Hash32, bool> isCommitted, IRoundSteps steps)
{
    private readonly BlockFetcher _fetcher = new(chain, self, options);
    private readonly ForwardSync _forward = new(chain, self, options);

    // The last block of the ranges inserted so far: it goes in once the next range brings the QC for it.
    private Block? _tail;
    private bool _reportedPruned;

    /// <summary>A QC for a block this validator does not hold: fetched by id, or by height from the committed one when it is far ahead.</summary>
    public void OnUnknownCertified(QuorumCertificate qc, PeerId from)
    {
        if (qc.Round > tree.Root.Round + options.ForwardSyncAfterRounds)
        {
            RequestRanges();
            return;
        }

        Fetch(qc.BlockId, from);
    }

    public void Fetch(Hash32 blockId, PeerId? from)
    {
        if (_fetcher.Fetch(blockId, from, store.Height, state.Now) is { } request)
        {
            state.Effects.Add(request);
        }
    }

    /// <summary>On a round timeout: every fetch still open is asked of the next peer.</summary>
    public void RetryAll() => state.Effects.AddRange(_fetcher.Retry(overdueOnly: false, store.Height, state.Now));

    /// <summary>After every step: fetches whose answer is overdue are asked again; ranges too while still behind.</summary>
    public void RetryOverdue()
    {
        if (_fetcher.AnyOverdue(state.Now))
        {
            state.Effects.AddRange(_fetcher.Retry(overdueOnly: true, store.Height, state.Now));
        }

        if (!_forward.IsActive)
        {
            return;
        }

        if (IsFarBehind)
        {
            state.Effects.AddRange(_forward.RetryOverdue(state.Now));
        }
        else if (_tail is null || _tail.Height <= tree.Root.Height)
        {
            _forward.Stop();
            _tail = null;
        }
    }

    public void OnBlockRequest(PeerId from, BlockRequest request) =>
        state.Effects.Add(new Reply(from, BlockServing.Answer(request, chain.Limits, id => tree.Get(id) ?? store.GetById(id))));

    /// <summary>
    /// Where no sync actor serves ranges (the simulator): from the committed store. A committed height without a body
    /// is pruned at least up to there.
    /// </summary>
    public void OnBlockRangeRequest(PeerId from, BlockRangeRequest request) =>
        state.Effects.Add(new Reply(from, BlockServing.AnswerRange(request, chain.Limits, store.Height, () => request.FromHeight, store.GetByHeight)));

    public void OnBlockResponse(PeerId from, BlockResponse response)
    {
        switch (_fetcher.Accept(response, tree.Root.Height))
        {
            case BlockFetcher.Answer.Unasked:
                return;
            case BlockFetcher.Answer.Broken:
                state.Reject(from, $"block response for {response.RequestedId.ToShortString()} does not hash-chain from the requested block");
                return;
            default:
                ConnectOrphans(from);
                steps.BlocksConnected();
                return;
        }
    }

    public void OnBlockRangeResponse(PeerId from, BlockRangeResponse response)
    {
        var (rejection, requests) = _forward.Accept(from, response, state.Now);
        if (rejection is not null)
        {
            state.Reject(from, rejection);
        }

        state.Effects.AddRange(requests);
        if (_forward.PrunedEverywhere is { } pruned && !_reportedPruned)
        {
            _reportedPruned = true;
            state.Effects.Add(new CatchUpNeedsSnapshot(response.FromHeight, pruned));
        }

        if (InsertConnectingRanges())
        {
            steps.BlocksConnected();
        }

        if (IsFarBehind)
        {
            RequestRanges();
        }
    }

    private bool IsFarBehind => state.HighQc.Round > tree.Root.Round + options.ForwardSyncAfterRounds;

    private void RequestRanges()
    {
        if (_tail is not null && _tail.Height <= tree.Root.Height)
        {
            _tail = null;
        }

        state.Effects.AddRange(_forward.Request((_tail?.Height ?? tree.Root.Height) + 1, state.Now));
    }

    /// <summary>
    /// Inserts what the arrived ranges prove: each block under the verified QC in the block after it, in height order
    /// from the tree. A range that breaks the chain or carries a QC that does not verify is dropped and its sender
    /// rejected; the ranges are asked for again.
    /// </summary>
    private bool InsertConnectingRanges()
    {
        if (_tail is not null && _tail.Height <= tree.Root.Height)
        {
            _tail = null;
        }

        var next = (_tail?.Height ?? tree.Root.Height) + 1;
        var inserted = false;
        foreach (var (range, from) in _forward.TakeConnecting(next))
        {
            foreach (var block in range.Blocks)
            {
                if (block.Height < next)
                {
                    continue;
                }

                if (_tail is not null)
                {
                    var qc = block.Header.Justify;
                    var verdict = block.ParentId != _tail.Id || qc.BlockId != _tail.Id
                        ? Verdict.Reject($"block {block.Height} of a range does not extend block {_tail.Height} with a QC for it")
                        : checks.CheckQc(qc);
                    var (result, reason) = verdict.IsAccepted ? tree.TryInsert(_tail, isCommitted) : (InsertResult.Rejected, verdict.Reason);
                    if (result is InsertResult.Rejected or InsertResult.MissingParent)
                    {
                        // The lie may be this block or the one before it, from another range: every range is asked
                        // again from the committed height, in turn of the validators after the ones asked last.
                        state.Reject(from, $"block range from height {range.FromHeight}: {reason ?? "it does not connect to this validator's chain"}");
                        _forward.Stop();
                        _tail = null;
                        return inserted;
                    }

                    inserted = true;
                    steps.AdvanceWith(qc, from);
                }

                _tail = block;
                next = block.Height + 1;
            }
        }

        return inserted;
    }

    private void ConnectOrphans(PeerId from)
    {
        foreach (var block in _fetcher.OrphansInHeightOrder())
        {
            if (block.Height <= tree.Root.Height)
            {
                _fetcher.RemoveOrphan(block);
                continue;
            }

            var (result, reason) = tree.TryInsert(block, isCommitted);
            if (result == InsertResult.MissingParent)
            {
                continue;
            }

            _fetcher.RemoveOrphan(block);
            if (result == InsertResult.Rejected)
            {
                state.Reject(from, reason!);
                continue;
            }

            if (result == InsertResult.Inserted)
            {
                state.Effects.Add(new PersistBlock(block));
                steps.AdvanceWith(block.Header.Justify, from);
            }
        }

        if (_fetcher.MissingAncestorOf(state.HighQc.BlockId, tree.Contains) is { } missing)
        {
            Fetch(missing, from);
        }
    }
}
