using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Storage.Blocks;
using IdOS.Akka.Engine.Tests.Cluster;
using Xunit;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// Four validators as separate processes of the built executable on real TCP: they commit the identical sequence of
/// blocks, survive kill -9 of one of them under load, and the restarted one catches up from its own storage and
/// its peers to the same head. Every accepted transaction is committed exactly once.
/// </summary>
[Trait("Category", "Process")]
[Collection(SerialClusters.Name)]
public sealed class NodeProcessTests
{
    [Fact]
    public async Task Four_processes_agree_keep_committing_through_a_kill_9_and_the_restarted_validator_catches_up()
    {
        using var network = new TestNetwork(4);
        await using var nodes = new NodeProcesses(network);
        for (var v = 0; v < 4; v++)
        {
            nodes.Start(v);
        }

        var ledger = new Ledger();
        for (var batch = 0; batch < 10; batch++)
        {
            await Eventually.Holds(async () =>
            {
                var (transactions, results) = await nodes.Submit(batch % 4, 100);
                ledger.Record(transactions, results);
                return (results is not null, $"validator {batch % 4} did not answer");
            }, $"validator {batch % 4} to take batch {batch}");
        }

        Assert.Equal(1_000, ledger.Accepted.Count);
        await AllCommitted(nodes, [0, 1, 2, 3], ledger, "all 4 to commit the first 1,000 transactions");

        using var load = new CancellationTokenSource();
        var background = Task.Run(() => DriveLoad(nodes, ledger, load.Token));
        var heightAtKill = (await nodes.Status(0))!.Height;
        nodes.Kill(3);
        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses([0, 1, 2]);
            return (statuses.All(s => s is not null && s.Height >= heightAtKill + 10), NodeProcesses.Describe(statuses));
        }, $"the other 3 to commit 10 more blocks after validator 3 was killed at height {heightAtKill}");

        nodes.Start(3);
        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses([0, 1, 2, 3]);
            var caughtUp = statuses.All(s => s is not null) && statuses[3]!.Height >= statuses.Take(3).Min(s => s!.Height);
            return (caughtUp, NodeProcesses.Describe(statuses));
        }, "the restarted validator 3 to reach the others' height", TimeSpan.FromSeconds(120));

        await load.CancelAsync();
        await background;
        await AllCommitted(nodes, [0, 1, 2, 3], ledger, "all 4 to commit every accepted transaction");

        var statusesAtEnd = await nodes.Statuses([0, 1, 2, 3]);
        var height = statusesAtEnd.Min(s => s!.Height);
        Assert.True(height > heightAtKill + 10, NodeProcesses.Describe(statusesAtEnd));
        var reference = network.CommittedIds(0, height);
        for (var v = 1; v < 4; v++)
        {
            Assert.Equal(reference, network.CommittedIds(v, height));
        }

        for (var v = 0; v < 4; v++)
        {
            using var store = BlockStoreDatabase.Open(network.BlockStorePath(v));
            var committed = store.AllTransactionHashes().Select(h => new Hash32(h)).ToList();
            Assert.Equal(committed.Count, committed.Distinct().Count());
            Assert.Empty(ledger.Accepted.Where(h => !committed.Contains(h)).Take(5));
            Assert.Empty(committed.Where(h => !ledger.Submitted.Contains(h)).Take(5));
        }
    }

    /// <summary>Every accepted transaction committed on each of these validators, as their status reports it.</summary>
    private static Task AllCommitted(NodeProcesses nodes, int[] validators, Ledger ledger, string what) =>
        Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses(validators);
            return (statuses.All(s => s is not null && s.CommittedTransactions >= ledger.Accepted.Count && s.PendingTransactions == 0),
                $"{ledger.Accepted.Count} accepted; {NodeProcesses.Describe(statuses)}");
        }, what, TimeSpan.FromSeconds(120));

    private static async Task DriveLoad(NodeProcesses nodes, Ledger ledger, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var validator = i % 4;
            if (nodes.IsRunning(validator))
            {
                var (transactions, results) = await nodes.Submit(validator, 20);
                ledger.Record(transactions, results);
            }

            try
            {
                await Task.Delay(50, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>What the test submitted and what the nodes said they accepted.</summary>
    private sealed class Ledger
    {
        public HashSet<Hash32> Submitted { get; } = [];

        public HashSet<Hash32> Accepted { get; } = [];

        public void Record(List<byte[]> transactions, Engine.Network.SubmitResults? results)
        {
            lock (this)
            {
                foreach (var transaction in transactions)
                {
                    Submitted.Add(Block.TransactionHash(transaction));
                }

                foreach (var result in results?.Results ?? [])
                {
                    if (result.Status == MempoolAddStatus.Added)
                    {
                        Accepted.Add(result.Hash);
                    }
                }
            }
        }
    }
}
