using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

[Trait("Category", "Unit")]
public sealed class TransactionPoolTests
{
    [Fact]
    public void Admission_refuses_pending_committed_oversized_and_overflowing_transactions_with_reasons()
    {
        var pool = new TransactionPool(2, 1_000, 100);

        Assert.Equal(MempoolAddStatus.Added, Admit(pool, 1).Status);
        var again = Admit(pool, 1);
        var committed = Admit(pool, 2, committed: true);
        var oversized = pool.Admit(new byte[101], Hash32.Compute("big"u8), committed: false);
        Admit(pool, 3);
        var full = Admit(pool, 4);

        Assert.Equal((MempoolAddStatus.Duplicate, "transaction is already pending"), (again.Status, again.Reason));
        Assert.Equal((MempoolAddStatus.Duplicate, "transaction is already committed"), (committed.Status, committed.Reason));
        Assert.Equal(MempoolAddStatus.Rejected, oversized.Status);
        Assert.Contains("limit is 1 to 100", oversized.Reason, StringComparison.Ordinal);
        Assert.Equal(MempoolAddStatus.Rejected, full.Status);
        Assert.Contains("mempool is full", full.Reason, StringComparison.Ordinal);
        Assert.Equal(2, pool.Count);
        Assert.Equal(TestChain.Tx(1).Length + TestChain.Tx(3).Length, pool.Bytes);
    }

    [Fact]
    public void Handing_gives_the_oldest_within_count_and_bytes_and_a_handed_transaction_still_counts()
    {
        var pool = new TransactionPool(10, 10_000, 100);
        for (var i = 1; i <= 5; i++)
        {
            Admit(pool, i);
        }

        var (first, firstHashes) = pool.Hand(2, 10_000);
        var (next, _) = pool.Hand(10, TestChain.Tx(3).Length + 1);

        Assert.Equal([TestChain.Tx(1), TestChain.Tx(2)], first);
        Assert.Equal(first.Select(t => Block.TransactionHash(t)), firstHashes);
        Assert.Equal([TestChain.Tx(3)], next);
        Assert.Equal((5, 2), (pool.Count, pool.Waiting));
        Assert.Equal(MempoolAddStatus.Duplicate, Admit(pool, 1).Status);
        Assert.Equal([TestChain.Tx(4)], pool.Hand(10, 1).Transactions);
    }

    [Fact]
    public void Taken_back_transactions_are_first_in_line_again_and_removal_frees_waiting_and_handed_ones()
    {
        var pool = new TransactionPool(10, 10_000, 100);
        for (var i = 1; i <= 4; i++)
        {
            Admit(pool, i);
        }

        var (_, handed) = pool.Hand(2, 10_000);
        pool.TakeBack(handed);
        pool.TakeBack(handed);

        Assert.Equal(4, pool.Waiting);
        Assert.Equal([TestChain.Tx(1), TestChain.Tx(2), TestChain.Tx(3)], pool.Hand(3, 10_000).Transactions);

        pool.Remove([Block.TransactionHash(TestChain.Tx(1)), Block.TransactionHash(TestChain.Tx(4)), Hash32.Compute("absent"u8)]);

        Assert.Equal((2, 0), (pool.Count, pool.Waiting));
        Assert.Equal(TestChain.Tx(2).Length + TestChain.Tx(3).Length, pool.Bytes);
        Assert.Equal(MempoolAddStatus.Added, Admit(pool, 1).Status);
        Assert.Equal([TestChain.Tx(1)], pool.Hand(10, 10_000).Transactions);
    }

    [Fact]
    public void A_line_starts_at_the_states_next_nonce_closes_gaps_as_they_fill_and_lets_a_used_nonce_through()
    {
        var reads = 0;
        var pool = new TransactionPool(10, 10_000, 100, _ => { reads++; return 4; });

        Place(pool, "a", 6);
        Place(pool, "a", 3);
        Place(pool, "a", 5);
        Assert.Equal((1, 2), (pool.Waiting, pool.Held));
        Place(pool, "a", 4);

        Assert.Equal((4, 0), (pool.Waiting, pool.Held));
        Assert.Equal(["a-3", "a-4", "a-5", "a-6"], Texts(pool.Hand(10, 10_000).Transactions));
        Assert.Equal(1, reads);
        Place(pool, "a", 8);
        Place(pool, "a", 7);
        Assert.Equal(["a-7", "a-8"], Texts(pool.Hand(10, 10_000).Transactions));
    }

    [Fact]
    public void The_state_moving_past_a_gap_releases_what_waited_and_a_line_ends_with_its_last_transaction()
    {
        ulong stateNext = 1;
        var pool = new TransactionPool(10, 10_000, 100, _ => stateNext);
        var held = Place(pool, "b", 3);
        var other = Place(pool, "c", 9);

        Assert.Equal(["b", "c"], pool.HoldingSenders(10));
        Assert.Equal(["b"], pool.HoldingSenders(1));
        Assert.Equal(["c"], pool.HoldingSenders(1));
        pool.Refresh("b", 3);
        Assert.Equal(["b-3"], Texts(pool.Hand(10, 10_000).Transactions));
        Assert.Equal(["c"], pool.HoldingSenders(10));

        pool.Remove([held, other]);
        stateNext = 4;
        Place(pool, "b", 4);
        Assert.Equal((0, 0, 1), (pool.Held, pool.Count - 1, pool.Waiting));
    }

    private static Hash32 Place(TransactionPool pool, string sender, ulong nonce)
    {
        var transaction = System.Text.Encoding.UTF8.GetBytes($"{sender}-{nonce}");
        var hash = Block.TransactionHash(transaction);
        Assert.Equal(MempoolAddStatus.Added, pool.Admit(transaction, hash, committed: false, new SenderNonce(sender, nonce)).Status);
        return hash;
    }

    private static string[] Texts(IEnumerable<byte[]> transactions) => [.. transactions.Select(t => System.Text.Encoding.UTF8.GetString(t))];

    private static MempoolAddResult Admit(TransactionPool pool, int i, bool committed = false) =>
        pool.Admit(TestChain.Tx(i), Block.TransactionHash(TestChain.Tx(i)), committed);
}
