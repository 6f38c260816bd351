using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Actors;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Tests.Consensus;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Actors;

/// <summary>
/// The mempool actor admits, answers and forwards on its own, and the consensus actor pulls what it proposes: no
/// transaction goes to consensus and back before the other validators see it.
/// </summary>
[Trait("Category", "Unit")]
public sealed class MempoolActorTests() : global::Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(TestFiles.NodeConf))
{
    private static readonly byte[] Refused = TestChain.Tx(666);
    private readonly HashSet<Hash32> _committed = [Block.TransactionHash(TestChain.Tx(99))];
    private readonly MempoolCounters _counters = new();
    private readonly Dictionary<Hash32, SenderNonce> _places = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ulong> _stateNext = new();

    [Fact]
    public void A_submission_is_answered_in_order_and_only_what_a_client_submitted_and_was_admitted_goes_to_the_peers()
    {
        var (mempool, consensus, directory) = Start();

        mempool.Tell(new SubmitTransactions([TestChain.Tx(1), Refused, TestChain.Tx(99), TestChain.Tx(1), TestChain.Tx(2)]));

        var answer = ExpectMsg<SubmitResults>();
        Assert.Equal([MempoolAddStatus.Added, MempoolAddStatus.Rejected, MempoolAddStatus.Duplicate, MempoolAddStatus.Duplicate, MempoolAddStatus.Added],
            answer.Results.Select(r => r.Status));
        Assert.Equal("refused by the check", answer.Results[1].Reason);
        Assert.Equal("transaction is already committed", answer.Results[2].Reason);
        Assert.Equal(Block.TransactionHash(TestChain.Tx(2)), answer.Results[4].Hash);
        var forwarded = Assert.IsType<ForwardedTransactions>(directory.ExpectMsg<PeerDirectory.ToAll>().Message);
        Assert.Equal([TestChain.Tx(1), TestChain.Tx(2)], forwarded.Transactions);

        mempool.Tell(new ForwardedTransactions([TestChain.Tx(3), TestChain.Tx(2)]));
        directory.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        consensus.ExpectNoMsg(TimeSpan.Zero);
        Assert.Equal(3, _counters.Pending);
    }

    [Fact]
    public void A_pull_is_answered_at_once_from_what_waits_and_an_open_one_by_the_next_admission()
    {
        var (mempool, consensus, _) = Start();
        mempool.Tell(new ForwardedTransactions([TestChain.Tx(1), TestChain.Tx(2), TestChain.Tx(3)]));

        mempool.Tell(new MempoolActor.Pull(2, 1_000, [], []), consensus);
        var first = consensus.ExpectMsg<MempoolActor.Offer>();
        Assert.Equal([TestChain.Tx(1), TestChain.Tx(2)], first.Transactions);
        Assert.Equal(first.Transactions.Select(t => Block.TransactionHash(t)), first.Hashes);

        mempool.Tell(new MempoolActor.Pull(10, 1_000, [], []), consensus);
        Assert.Equal([TestChain.Tx(3)], consensus.ExpectMsg<MempoolActor.Offer>().Transactions);

        mempool.Tell(new MempoolActor.Pull(10, 1_000, [], []), consensus);
        consensus.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        mempool.Tell(new SubmitTransactions([TestChain.Tx(4)]));
        Assert.Equal([TestChain.Tx(4)], consensus.ExpectMsg<MempoolActor.Offer>().Transactions);
        AwaitCondition(() => (_counters.Pending, _counters.Waiting) == (4, 0));
    }

    [Fact]
    public void What_consensus_gave_up_leaves_the_pool_what_did_not_fit_is_offered_again_and_commits_free_the_rest()
    {
        var (mempool, consensus, _) = Start();
        mempool.Tell(new ForwardedTransactions([TestChain.Tx(1), TestChain.Tx(2), TestChain.Tx(3)]));
        mempool.Tell(new MempoolActor.Pull(10, 1_000, [], []), consensus);
        var offered = consensus.ExpectMsg<MempoolActor.Offer>().Hashes;

        mempool.Tell(new MempoolActor.Pull(10, 1_000, [offered[0]], [offered[2]]), consensus);

        Assert.Equal([TestChain.Tx(3)], consensus.ExpectMsg<MempoolActor.Offer>().Transactions);
        AwaitCondition(() => _counters.Pending == 2);
        Sys.EventStream.Publish(new BlockCommittedNotice(1, Hash32.Compute("block"u8), 1, [offered[1], offered[2]], 0, 0, 0));
        AwaitCondition(() => _counters.Pending == 0);
        mempool.Tell(new SubmitTransactions([TestChain.Tx(1)]));
        Assert.Equal(MempoolAddStatus.Added, ExpectMsg<SubmitResults>().Results[0].Status);
    }

    [Fact]
    public void A_senders_transactions_are_handed_on_in_nonce_order_and_those_past_a_gap_wait_for_it_or_for_the_state()
    {
        var (mempool, consensus, _) = Start();
        var alice = Place("alice", 1, 2, 3);
        var bob = Place("bob", 5);
        _stateNext["bob"] = 3;

        mempool.Tell(new ForwardedTransactions([alice[3], alice[2], bob[5], TestChain.Tx(7)]));
        mempool.Tell(new MempoolActor.Pull(10, 10_000, [], []), consensus);
        Assert.Equal([TestChain.Tx(7)], consensus.ExpectMsg<MempoolActor.Offer>().Transactions);

        mempool.Tell(new MempoolActor.Pull(10, 10_000, [], []), consensus);
        mempool.Tell(new SubmitTransactions([alice[1]]));
        Assert.Equal([alice[1], alice[2], alice[3]], consensus.ExpectMsg<MempoolActor.Offer>().Transactions);

        mempool.Tell(new MempoolActor.Pull(10, 10_000, [], []), consensus);
        consensus.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        _stateNext["bob"] = 5;
        Sys.EventStream.Publish(new BlockExecutedNotice(1, []));
        Assert.Equal([bob[5]], consensus.ExpectMsg<MempoolActor.Offer>().Transactions);
    }

    [Fact]
    public void A_gap_in_the_commit_notices_makes_the_pool_look_up_what_it_holds()
    {
        var (mempool, consensus, _) = Start();
        mempool.Tell(new ForwardedTransactions([TestChain.Tx(1), TestChain.Tx(2)]));
        mempool.Tell(new MempoolActor.Pull(10, 1_000, [], []), consensus);
        consensus.ExpectMsg<MempoolActor.Offer>();
        Sys.EventStream.Publish(new BlockCommittedNotice(1, Hash32.Compute("one"u8), 1, [], 0, 0, 0));
        AwaitCondition(() => _counters.Pending == 2);

        lock (_committed)
        {
            _committed.Add(Block.TransactionHash(TestChain.Tx(1)));
        }

        Sys.EventStream.Publish(new BlockCommittedNotice(3, Hash32.Compute("three"u8), 3, [], 0, 0, 0));

        AwaitCondition(() => _counters.Pending == 1);
        mempool.Tell(new SubmitTransactions([TestChain.Tx(2)]));
        Assert.Equal("transaction is already pending", ExpectMsg<SubmitResults>().Results[0].Reason);
    }

    /// <summary>A distinct transaction per nonce of <paramref name="sender"/>, each placed in its line by the check.</summary>
    private Dictionary<ulong, byte[]> Place(string sender, params ulong[] nonces)
    {
        var transactions = new Dictionary<ulong, byte[]>();
        foreach (var nonce in nonces)
        {
            var transaction = System.Text.Encoding.UTF8.GetBytes($"{sender}-{nonce}");
            _places[Block.TransactionHash(transaction)] = new SenderNonce(sender, nonce);
            transactions[nonce] = transaction;
        }

        return transactions;
    }

    private (IActorRef Mempool, global::Akka.TestKit.TestProbe Consensus, global::Akka.TestKit.TestProbe Directory) Start()
    {
        var consensus = CreateTestProbe();
        var directory = CreateTestProbe();
        var setup = new MempoolSetup(
            (transaction, hash) => transaction.AsSpan().SequenceEqual(Refused) ? new MempoolVerdict("refused by the check", null)
                : new MempoolVerdict(null, _places.TryGetValue(hash, out var place) ? place : null),
            FindCommitted,
            directory,
            MaxTransactions: 100,
            MaxBytes: 10_000,
            MaxTransactionBytes: 1_000,
            ForwardBatch: 100)
        {
            Counters = _counters,
            NextNonce = sender => _stateNext.TryGetValue(sender, out var next) ? next : 1,
        };
        var mempool = Sys.ActorOf(MempoolActor.Props(setup));
        mempool.Tell(new MempoolActor.Attach(consensus));
        return (mempool, consensus, directory);
    }

    private void FindCommitted(ReadOnlySpan<Hash32> hashes, Span<bool> committed)
    {
        lock (_committed)
        {
            for (var i = 0; i < hashes.Length; i++)
            {
                committed[i] = _committed.Contains(hashes[i]);
            }
        }
    }
}
