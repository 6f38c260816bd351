using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Storage.Queries;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// The explorer's reads of the committed chain, answered by the query actor from its own block store connection and
/// state reader. Transactions are summarised (<see cref="TransactionLabel"/>): nothing a user wrote leaves here.
/// </summary>
internal sealed class ExplorerQueries(SqliteBlockStore blocks, StateReader state, ValidatorSet genesisSet)
{
    public RecentBlocksAnswer Recent(RecentBlocksQuery query)
    {
        var head = blocks.StoredHeight;
        var executed = state.TransactionResults([]).Height;
        var top = query.AtOrBelow == 0 ? head : Math.Min(query.AtOrBelow, head);
        var count = Math.Clamp(query.Count, 0, ExplorerMessageCodec.MaxBlocks);
        var summaries = new List<BlockSummary>(count);
        for (var height = top; height >= 1 && summaries.Count < count; height--)
        {
            if (Summary(height) is { } summary)
            {
                summaries.Add(summary.Block);
            }
        }

        return new RecentBlocksAnswer(head, executed, summaries, Sets(summaries));
    }

    public BlockAnswer Block(BlockQuery query)
    {
        var head = blocks.StoredHeight;
        if (query.Height < 1 || query.Height > head || Summary(query.Height) is not { } found)
        {
            return new BlockAnswer(head, state.TransactionResults([]).Height, null, [], []);
        }

        var limit = Math.Clamp(query.TransactionLimit, 0, ExplorerMessageCodec.MaxTransactions);
        var offset = Math.Min(query.TransactionOffset, found.Hashes.Count);
        var page = found.Hashes.Skip(offset).Take(limit).ToList();
        var (executed, results) = state.TransactionResults([.. page.Select(hash => hash.ToArray())]);
        var transactions = new List<TransactionSummary>(page.Count);
        for (var i = 0; i < page.Count; i++)
        {
            var body = found.Body?.Transactions[offset + i];
            transactions.Add(new TransactionSummary(page[i], body is null ? null : TransactionLabel.Of(body), body?.Length, results[i]?.Code));
        }

        return new BlockAnswer(head, executed, found.Block, transactions, Sets([found.Block]));
    }

    /// <summary>
    /// The set at the committed head, and for each validator the newest block among the last
    /// <see cref="ExplorerMessageCodec.MaxScannedBlocks"/> whose certificate carries its vote: a validator that voted
    /// but was not among the first quorum the leader heard is not seen there, so the page calls it the last vote
    /// certified.
    /// </summary>
    public ValidatorsAnswer Validators()
    {
        var head = blocks.StoredHeight;
        var epoch = head == 0 ? 0 : blocks.HeaderAt(head)?.Header.Epoch ?? 0;
        var keys = KeysOf(epoch);
        var heights = new long[keys.Length];
        var times = new long[keys.Length];
        var missing = keys.Length;
        for (var height = head; height >= 1 && height > head - ExplorerMessageCodec.MaxScannedBlocks && missing > 0; height--)
        {
            // Certificates are small; a block is read only where a validator is first seen, to date its vote and to
            // stop at the epoch's start (an older set's indices name other validators).
            if (CertificateOver(height) is not { } certificate)
            {
                break;
            }

            var firstSeen = SignerBitmap.Signers(certificate.Signers).Where(signer => signer < heights.Length && heights[signer] == 0).ToList();
            if (firstSeen.Count == 0)
            {
                continue;
            }

            if (blocks.HeaderAt(height)?.Header is not { } header || header.Epoch != epoch)
            {
                break;
            }

            foreach (var signer in firstSeen)
            {
                heights[signer] = height;
                times[signer] = header.Timestamp;
                missing--;
            }
        }

        return new ValidatorsAnswer(head, new EpochKeys(epoch, keys), heights, times);
    }

    private (BlockSummary Block, IReadOnlyList<Hash32> Hashes, Block? Body)? Summary(long height)
    {
        var body = blocks.GetByHeight(height);
        var pruned = body is null ? blocks.HeaderAt(height) : null;
        if ((body?.Header ?? pruned?.Header) is not { } header)
        {
            return null;
        }

        var hashes = body?.TransactionHashes ?? pruned!.TransactionHashes;
        var signers = CertificateOver(height) is { } certificate ? SignerBitmap.Signers(certificate.Signers) : [];
        var summary = new BlockSummary(height, Consensus.Block.IdOf(header), header.Round, header.Timestamp, header.Epoch, header.Proposer, header.TxCount,
            body?.EncodedSize, signers);
        return (summary, hashes, body);
    }

    /// <summary>The certificate over a block is stored with it; where it is not, the next header's justify is the same.</summary>
    private QuorumCertificate? CertificateOver(long height) => blocks.CertificateAt(height) ?? blocks.HeaderAt(height + 1)?.Header.Justify;

    private List<EpochKeys> Sets(IEnumerable<BlockSummary> shown) =>
        [.. shown.Select(block => block.Epoch).Distinct().Take(ExplorerMessageCodec.MaxSets).Select(epoch => new EpochKeys(epoch, KeysOf(epoch)))];

    /// <summary>Empty for an epoch whose set this store does not keep (the page then shows indices alone).</summary>
    private Ed25519PublicKey[] KeysOf(long epoch) =>
        (epoch == 0 ? genesisSet : blocks.SetOf(epoch)) is { } set ? [.. Enumerable.Range(0, set.Count).Select(i => set[i])] : [];
}
