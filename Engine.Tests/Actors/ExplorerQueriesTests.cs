using IdOS.Akka.Engine.Actors;
using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Queries;
using IdOS.Akka.Engine.Tests.Consensus;
using IdOS.Akka.Engine.Tests.Storage;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Actors;

/// <summary>
/// The explorer's reads on a real block store: blocks newest first with the votes of the certificate over each, a
/// block's transactions in pages, pruned bodies still listed by hash, and each validator's newest certified vote.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ExplorerQueriesTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("idos-explorer-");
    private readonly SqliteTestFile _stateFile = new();
    private readonly TestChain _t = new();
    private readonly SqliteBlockStore _store;
    private readonly StateDatabase _state;
    private readonly List<Block> _blocks = [];
    private readonly ExplorerQueries _queries;

    public ExplorerQueriesTests()
    {
        _store = new SqliteBlockStore(Path.Combine(_dir.FullName, "blocks.db"), _t.Chain.Limits);
        _state = StateDatabase.Open(_stateFile.Options);
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc, [TestChain.Tx(1), TestChain.Tx(2), TestChain.Tx(3)]);
        var b2 = _t.Block(2, b1, transactions: [TestChain.Tx(4)]);
        var b3 = _t.Block(4, b2, _t.QcFor(b2, [1, 2, 3]));
        var b4 = _t.Block(5, b3, _t.QcFor(b3, [0, 2, 3]));
        _blocks.AddRange([b1, b2, b3, b4]);
        // The certificate over each block: b2's carries validators 1-3, b3's 0, 2 and 3; b1's the default quorum.
        _store.Append(b1, b2.Header.Justify);
        _store.Append(b2, b3.Header.Justify);
        _store.Append(b3, b4.Header.Justify);
        _queries = new ExplorerQueries(_store, new StateReader(_state, ""), _t.Chain.Validators);
    }

    public void Dispose()
    {
        _store.Dispose();
        _state.Dispose();
        _stateFile.Dispose();
        _dir.Delete(recursive: true);
    }

    [Fact]
    public void Recent_blocks_come_newest_first_with_the_votes_over_them_and_the_keys_of_their_set()
    {
        var answer = _queries.Recent(new RecentBlocksQuery(0, 10));

        Assert.Equal(3, answer.CommittedHeight);
        Assert.Equal([3L, 2, 1], answer.Blocks.Select(b => b.Height));
        var newest = answer.Blocks[0];
        Assert.Equal((_blocks[2].Id, 4L, _blocks[2].Header.Proposer, 0, _blocks[2].EncodedSize), (newest.Id, newest.Round, newest.Proposer, newest.TransactionCount,
            newest.BodyBytes!.Value));
        Assert.Equal([0, 2, 3], newest.Signers);
        Assert.Equal([1, 2, 3], answer.Blocks[1].Signers);
        var set = Assert.Single(answer.Sets);
        Assert.Equal(Enumerable.Range(0, _t.N).Select(i => _t.Chain.Validators[i]), set.Keys);

        Assert.Equal([2L], _queries.Recent(new RecentBlocksQuery(2, 1)).Blocks.Select(b => b.Height));
        Assert.Equal([3L, 2, 1], _queries.Recent(new RecentBlocksQuery(1_000, 50)).Blocks.Select(b => b.Height));
    }

    [Fact]
    public void A_block_gives_its_transactions_in_pages_and_a_pruned_one_still_lists_them_by_hash()
    {
        var page = _queries.Block(new BlockQuery(1, 1, 5));
        Assert.Equal(1, page.Block!.Height);
        Assert.Equal(_blocks[0].TransactionHashes.Skip(1), page.Transactions.Select(t => t.Hash));
        Assert.All(page.Transactions, t => Assert.Equal(("opaque", TestChain.Tx(2).Length), (t.Action, t.Bytes!.Value)));
        // Not executed in this state: no result yet.
        Assert.All(page.Transactions, t => Assert.Null(t.Code));
        Assert.Empty(_queries.Block(new BlockQuery(1, 3, 5)).Transactions);

        Assert.Equal(1, _store.Prune(1, 10));
        var pruned = _queries.Block(new BlockQuery(1, 0, 5));
        Assert.Null(pruned.Block!.BodyBytes);
        Assert.Equal(_blocks[0].TransactionHashes, pruned.Transactions.Select(t => t.Hash));
        Assert.All(pruned.Transactions, t => Assert.Equal((null, null), (t.Action, t.Bytes)));
    }

    [Fact]
    public void A_height_not_committed_has_no_block()
    {
        Assert.Null(_queries.Block(new BlockQuery(4, 0, 5)).Block);
        Assert.Null(_queries.Block(new BlockQuery(0, 0, 5)).Block);
    }

    [Fact]
    public void Each_validator_shows_the_newest_block_whose_certificate_carries_its_vote()
    {
        var answer = _queries.Validators();

        Assert.Equal(3, answer.Height);
        Assert.Equal([3L, 2, 3, 3], answer.LastVoteHeights);
        Assert.Equal(_blocks[2].Header.Timestamp, answer.LastVoteTimesMs[0]);
        Assert.Equal(_blocks[1].Header.Timestamp, answer.LastVoteTimesMs[1]);
    }
}
