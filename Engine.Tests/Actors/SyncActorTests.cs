using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Actors;
using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Storage.Snapshots;
using IdOS.Akka.Engine.Tests.Consensus;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Actors;

/// <summary>The sync actor answers for the committed chain from its own connection and hands everything else to consensus.</summary>
[Trait("Category", "Unit")]
public sealed class SyncActorTests() : global::Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(TestFiles.NodeConf)), IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("idos-sync-");
    private readonly TestChain _t = new();

    [Fact]
    public void A_request_for_a_committed_block_is_answered_with_its_ancestors_down_to_the_requesters_height()
    {
        var (b1, b2, b3) = CommitThree();
        var consensus = CreateTestProbe();
        var directory = CreateTestProbe();
        var sync = Sys.ActorOf(SyncActor.Props(new SqliteBlockStore(DbPath, _t.Chain.Limits), _t.Chain.Limits, PeerLimits.Default, () => 0, consensus, directory, new SyncCounters()));

        sync.Tell(new ConsensusActor.Inbound(new PeerId(2), new BlockRequest(b3.Id, 1, 64)));

        var reply = directory.ExpectMsg<PeerDirectory.ToValidator>();
        Assert.Equal(2, reply.Validator);
        var response = Assert.IsType<BlockResponse>(reply.Message);
        Assert.Equal([b3.Id, b2.Id], response.Blocks.Select(b => b.Id));
        consensus.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.NotEqual(b1.Id, response.Blocks[^1].Id);
    }

    [Fact]
    public void A_range_by_height_is_answered_from_the_committed_chain_in_height_order_and_nothing_past_it()
    {
        var (b1, b2, b3) = CommitThree();
        var consensus = CreateTestProbe();
        var directory = CreateTestProbe();
        var sync = Sys.ActorOf(SyncActor.Props(new SqliteBlockStore(DbPath, _t.Chain.Limits), _t.Chain.Limits, PeerLimits.Default, () => 0, consensus, directory, new SyncCounters()));

        sync.Tell(new ConsensusActor.Inbound(new PeerId(2), new BlockRangeRequest(2, 64)));
        sync.Tell(new ConsensusActor.Inbound(new PeerId(2), new BlockRangeRequest(4, 64)));

        var range = Assert.IsType<BlockRangeResponse>(directory.ExpectMsg<PeerDirectory.ToValidator>().Message);
        Assert.Equal([b2.Id, b3.Id], range.Blocks.Select(b => b.Id));
        Assert.Empty(Assert.IsType<BlockRangeResponse>(directory.ExpectMsg<PeerDirectory.ToValidator>().Message).Blocks);
        consensus.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.NotEqual(b1.Id, range.Blocks[0].Id);
    }

    [Fact]
    public void Headers_are_served_for_every_committed_height_whether_its_body_is_pruned_or_not()
    {
        var (b1, b2, b3) = CommitThree();
        using (var store = new SqliteBlockStore(DbPath, _t.Chain.Limits))
        {
            Assert.Equal(2, store.Prune(2, 10));
        }

        var directory = CreateTestProbe();
        var sync = Sys.ActorOf(SyncActor.Props(new SqliteBlockStore(DbPath, _t.Chain.Limits), _t.Chain.Limits, PeerLimits.Default, () => 0, CreateTestProbe(), directory,
            new SyncCounters()));

        sync.Tell(new ConsensusActor.Inbound(new PeerId(1), new HeaderRangeRequest(1, 1_024)));

        var headers = Assert.IsType<HeaderRangeResponse>(directory.ExpectMsg<PeerDirectory.ToValidator>().Message).Headers;
        Assert.Equal([b1.Id, b2.Id, b3.Id], headers.Select(h => h.Id));
        Assert.Equal(b1.TransactionHashes, headers[0].TransactionHashes);
    }

    [Fact]
    public void The_snapshots_kept_are_offered_and_their_chunks_served_and_a_chunk_not_held_is_answered_empty()
    {
        CommitThree();
        var directory = CreateTestProbe();
        var snapshots = new SnapshotDirectory(Path.Combine(_dir.FullName, "snapshots"), keep: 2);
        var writer = snapshots.Begin(10);
        writer.Chunk(0, [7, 7]);
        var offer = new SnapshotOffer(new SnapshotManifest(10, 1, 1024, [System.Security.Cryptography.SHA256.HashData([7, 7])]), new byte[32]);
        writer.Complete(offer);
        var sync = Sys.ActorOf(SyncActor.Props(new SqliteBlockStore(DbPath, _t.Chain.Limits), _t.Chain.Limits, PeerLimits.Default, () => 0, CreateTestProbe(), directory,
            new SyncCounters(), snapshots));

        sync.Tell(new PeerDirectory.FromValidator(1, SnapshotOffersQuery.Instance));
        sync.Tell(new PeerDirectory.FromValidator(1, new SnapshotChunkQuery(10, 0)));
        sync.Tell(new PeerDirectory.FromValidator(1, new SnapshotChunkQuery(10, 1)));

        var offers = Assert.IsType<SnapshotOffers>(directory.ExpectMsg<PeerDirectory.ToValidator>().Message);
        Assert.Equal(offer.Encode(), Assert.Single(offers.Offers));
        Assert.Equal([7, 7], Assert.IsType<SnapshotChunk>(directory.ExpectMsg<PeerDirectory.ToValidator>().Message).Bytes);
        Assert.Empty(Assert.IsType<SnapshotChunk>(directory.ExpectMsg<PeerDirectory.ToValidator>().Message).Bytes);
    }

    [Fact]
    public void A_request_for_a_block_not_committed_here_and_any_other_message_go_to_consensus()
    {
        CommitThree();
        var consensus = CreateTestProbe();
        var directory = CreateTestProbe();
        var sync = Sys.ActorOf(SyncActor.Props(new SqliteBlockStore(DbPath, _t.Chain.Limits), _t.Chain.Limits, PeerLimits.Default, () => 0, consensus, directory, new SyncCounters()));
        var unknown = new ConsensusActor.Inbound(new PeerId(1), new BlockRequest(Hash32.Compute("not here"u8), 0, 64));
        var vote = new ConsensusActor.Inbound(new PeerId(1), _t.Vote(1, _t.Chain.GenesisBlock.Id, 1));

        sync.Tell(unknown);
        sync.Tell(vote);

        Assert.Same(unknown, consensus.ExpectMsg<ConsensusActor.Inbound>());
        Assert.Same(vote, consensus.ExpectMsg<ConsensusActor.Inbound>());
        directory.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Requests_in_a_loop_get_each_peer_at_most_its_byte_budget_and_other_peers_are_unaffected()
    {
        var (_, b2, b3) = CommitThree();
        var consensus = CreateTestProbe();
        var directory = CreateTestProbe();
        var responseBytes = b3.EncodedSize + b2.EncodedSize;
        var now = 0L;
        var limits = new PeerLimits(5_000, 20_000, SyncBytesPerSecond: responseBytes, SyncBytesBurst: 3 * responseBytes);
        var counters = new SyncCounters();
        var sync = Sys.ActorOf(SyncActor.Props(new SqliteBlockStore(DbPath, _t.Chain.Limits), _t.Chain.Limits, limits, () => now, consensus, directory, counters));

        for (var i = 0; i < 100; i++)
        {
            sync.Tell(new ConsensusActor.Inbound(new PeerId(2), new BlockRequest(b3.Id, 1, 64)));
        }

        sync.Tell(new ConsensusActor.Inbound(new PeerId(3), new BlockRequest(b3.Id, 1, 64)));
        var answered = Enumerable.Range(0, 4).Select(_ => directory.ExpectMsg<PeerDirectory.ToValidator>().Validator).ToList();
        directory.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Equal([2, 2, 2, 3], answered);
        Assert.Equal(97, counters.OverLimit);
        Assert.Equal(4L * responseBytes, counters.BytesServed);

        now += 1_000;
        sync.Tell(new ConsensusActor.Inbound(new PeerId(2), new BlockRequest(b3.Id, 1, 64)));
        Assert.Equal(2, directory.ExpectMsg<PeerDirectory.ToValidator>().Validator);
    }

    private string DbPath => Path.Combine(_dir.FullName, "blocks.db");

    private (Block B1, Block B2, Block B3) CommitThree()
    {
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc, [TestChain.Tx(1)]);
        var b2 = _t.Block(2, b1);
        var b3 = _t.Block(3, b2);
        var b4 = _t.Block(4, b3);
        using var store = new SqliteBlockStore(DbPath, _t.Chain.Limits);
        store.AppendExecuted(b1, b2.Header.Justify, _t.Chain.GenesisAppHash);
        store.AppendExecuted(b2, b3.Header.Justify, _t.Chain.GenesisAppHash);
        store.AppendExecuted(b3, b4.Header.Justify, _t.Chain.GenesisAppHash);
        return (b1, b2, b3);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _dir.Delete(recursive: true);
        }
    }
}
