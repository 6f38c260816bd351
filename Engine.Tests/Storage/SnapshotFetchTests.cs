using System.Security.Cryptography;
using IdOS.Akka.Engine.Storage.Snapshots;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>Choosing a snapshot that enough peers offer alike, and fetching its chunks from several peers, a liar among them.</summary>
[Trait("Category", "Unit")]
public sealed class SnapshotFetchTests
{
    private static readonly byte[][] Chunks = [.. Enumerable.Range(0, 10).Select(i => Enumerable.Repeat((byte)i, 100 + i).ToArray())];

    private static readonly SnapshotOffer Offer = new(new SnapshotManifest(20_000, 50, 1024, [.. Chunks.Select(c => SHA256.HashData(c))]), new byte[32]);

    [Fact]
    public void Chunks_come_from_every_peer_a_few_at_a_time_and_a_peer_sending_a_wrong_chunk_is_caught_and_asked_nothing_more()
    {
        var fetch = new SnapshotFetch(Offer, [1, 2, 3], perPeer: 2);
        var asked = new List<(int Peer, int Index)>();
        var askedOnceCaught = new List<(int Peer, int Index)>();
        var now = 0L;
        for (var steps = 0; !fetch.IsComplete && steps < 100; steps++)
        {
            var requests = fetch.Requests(now);
            Assert.All(requests.GroupBy(r => r.Peer), peer => Assert.True(peer.Count() <= 2));
            asked.AddRange(requests);
            if (fetch.Liars.Count > 0)
            {
                askedOnceCaught.AddRange(requests);
            }

            foreach (var (peer, index) in requests)
            {
                var bytes = peer == 2 ? [.. Chunks[index], 0] : Chunks[index];
                var verdict = fetch.Accept(peer, index, bytes);
                // Once caught, the liar's other answers are not even looked at.
                var expected = peer != 2 ? SnapshotFetch.Verdict.Taken
                    : fetch.Liars.Count == 1 && verdict == SnapshotFetch.Verdict.Unasked ? SnapshotFetch.Verdict.Unasked
                    : SnapshotFetch.Verdict.Refused;
                Assert.Equal(expected, verdict);
            }
        }

        Assert.True(fetch.IsComplete);
        Assert.Equal([2], fetch.Liars);
        Assert.Equal([1, 2, 3], asked.Select(a => a.Peer).Distinct().Order());
        Assert.NotEmpty(askedOnceCaught);
        Assert.DoesNotContain(askedOnceCaught, a => a.Peer == 2);
    }

    [Fact]
    public void When_every_peer_so_far_lied_the_fetch_is_stuck_until_another_offers_the_snapshot_and_completes_from_it()
    {
        var fetch = new SnapshotFetch(Offer, [1, 2], perPeer: 10);
        for (var round = 0; round < 2; round++)
        {
            foreach (var (peer, index) in fetch.Requests(0))
            {
                fetch.Accept(peer, index, [.. Chunks[index], 0]);
            }
        }

        var stuck = fetch.IsStuck;
        fetch.AddPeer(3);
        fetch.AddPeer(3);
        var stuckWithThree = fetch.IsStuck;
        foreach (var (peer, index) in fetch.Requests(0))
        {
            Assert.Equal(3, peer);
            fetch.Accept(peer, index, Chunks[index]);
        }

        Assert.True(stuck);
        Assert.False(stuckWithThree);
        Assert.True(fetch.IsComplete);
        Assert.Equal([1, 2], fetch.Liars.Order());
        Assert.True(SnapshotChoice.Alike(Offer, new SnapshotOffer(Offer.Manifest, new byte[32])));
        Assert.False(SnapshotChoice.Alike(Offer, new SnapshotOffer(Offer.Manifest, Enumerable.Repeat((byte)1, 32).ToArray())));
    }

    [Fact]
    public void A_chunk_not_held_or_left_unanswered_goes_to_another_peer_and_when_no_peer_is_left_the_fetch_says_it_is_stuck()
    {
        var fetch = new SnapshotFetch(Offer, [1, 2], perPeer: 1, retryMs: 100);
        var first = fetch.Requests(0);
        Assert.Equal([(1, 0), (2, 1)], first);

        Assert.Equal(SnapshotFetch.Verdict.NotHeld, fetch.Accept(1, 0, []));
        Assert.Equal(SnapshotFetch.Verdict.Unasked, fetch.Accept(1, 1, Chunks[1]));
        Assert.Contains((2, 0), fetch.Requests(50).Concat(fetch.Requests(150)));
        Assert.Equal(SnapshotFetch.Verdict.NotHeld, fetch.Accept(2, 0, []));
        fetch.Requests(300);
        Assert.True(fetch.IsStuck);
        Assert.False(fetch.IsComplete);
    }

    [Fact]
    public void The_newest_snapshot_offered_alike_by_enough_peers_is_chosen_and_one_only_a_single_peer_offers_is_not()
    {
        var older = new SnapshotOffer(new SnapshotManifest(10_000, 5, 1024, [SHA256.HashData(Chunks[0])]), new byte[32]);
        var lonely = new SnapshotOffer(new SnapshotManifest(30_000, 5, 1024, [SHA256.HashData(Chunks[1])]), new byte[32]);
        var offers = new Dictionary<int, IReadOnlyList<SnapshotOffer>>
        {
            [0] = [lonely, Offer, older],
            [1] = [Offer, older],
            [2] = [older],
        };

        var chosen = SnapshotChoice.Choose(offers, needed: 2);

        Assert.NotNull(chosen);
        Assert.Equal(20_000, chosen.Value.Offer.Manifest.Height);
        Assert.Equal([0, 1], chosen.Value.Peers);
        Assert.Equal(10_000, SnapshotChoice.Choose(offers, needed: 3)!.Value.Offer.Manifest.Height);
        Assert.Null(SnapshotChoice.Choose(new Dictionary<int, IReadOnlyList<SnapshotOffer>> { [0] = [lonely] }, needed: 2));
    }
}
