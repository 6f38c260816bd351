using IdOS.Akka.Engine.Consensus;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Consensus;

[Trait("Category", "Unit")]
public sealed class MempoolTests
{
    [Fact]
    public void Deduplicates_by_hash_and_keeps_arrival_order()
    {
        var pool = new Mempool(10, 1_000, 100);

        Assert.Equal(MempoolAddStatus.Added, pool.Add(TestChain.Tx(1)).Status);
        Assert.Equal(MempoolAddStatus.Duplicate, pool.Add(TestChain.Tx(1)).Status);
        pool.Add(TestChain.Tx(2));

        Assert.Equal([TestChain.Tx(1), TestChain.Tx(2)], pool.Select(10, 1_000, _ => false));
    }

    [Fact]
    public void A_full_pool_rejects_with_a_reason_and_keeps_what_it_has()
    {
        var pool = new Mempool(2, 1_000, 100);
        pool.Add(TestChain.Tx(1));
        pool.Add(TestChain.Tx(2));

        var result = pool.Add(TestChain.Tx(3));

        Assert.Equal(MempoolAddStatus.Rejected, result.Status);
        Assert.Contains("mempool is full", result.Reason, StringComparison.Ordinal);
        Assert.Equal(2, pool.Count);
        Assert.Equal(MempoolAddStatus.Rejected, new Mempool(10, 10, 100).Add(new byte[11]).Status);
        Assert.Contains("limit is 1 to 100", new Mempool(10, 1_000, 100).Add(new byte[101]).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Selection_skips_excluded_and_respects_count_and_bytes()
    {
        var pool = new Mempool(10, 1_000, 100);
        for (var i = 1; i <= 5; i++)
        {
            pool.Add(TestChain.Tx(i));
        }

        var excluded = Block.TransactionHash(TestChain.Tx(2));

        Assert.Equal([TestChain.Tx(1), TestChain.Tx(3)], pool.Select(2, 1_000, h => h == excluded));
        Assert.Single(pool.Select(10, TestChain.Tx(1).Length + 4, _ => false));
    }

    [Fact]
    public void Committed_transactions_leave_and_abandoned_ones_come_back_even_past_the_bound()
    {
        var pool = new Mempool(1, 1_000, 100);
        pool.Add(TestChain.Tx(1));
        pool.RemoveCommitted([Block.TransactionHash(TestChain.Tx(1))]);
        pool.Add(TestChain.Tx(2));
        var committed = Block.TransactionHash(TestChain.Tx(4));

        pool.Return([TestChain.Tx(3), TestChain.Tx(4)], h => h == committed);

        Assert.Equal([TestChain.Tx(2), TestChain.Tx(3)], pool.Select(10, 1_000, _ => false));
    }
}
