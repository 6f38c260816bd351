using IdOS.Akka.Engine.Tests.Cluster;
using Xunit;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// A validator whose data folder is wiped while the others go on, started again thousands of blocks behind: more
/// than walking back from the newest block could ever hold (4,096 blocks), so it catches up by height, from its
/// peers, over real TCP, and then takes part again. IDOS_CATCHUP_BLOCKS sets how far behind (4,500 by default, what
/// the suite runs; docs/OPERATIONS.md records a run 50,000 blocks behind, which starts from a snapshot).
/// </summary>
[Trait("Category", "Process")]
[Collection(SerialClusters.Name)]
public sealed class CatchUpProcessTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly long BlocksBehind = long.TryParse(Environment.GetEnvironmentVariable("IDOS_CATCHUP_BLOCKS"), out var blocks) && blocks > 0 ? blocks : 4_500;

    // Deadlines grow with the distance: the network commits empty blocks at a few hundred a second, or fewer.
    private static TimeSpan Allow(double secondsPer4500) => TimeSpan.FromSeconds(secondsPer4500 * Math.Max(1, BlocksBehind / 4_500.0));

    [Fact]
    public async Task A_wiped_validator_thousands_of_blocks_behind_catches_up_by_height_and_commits_the_same_chain()
    {
        // No rest on an idle chain: empty blocks come as fast as the rounds go.
        using var network = new TestNetwork(4, "idos.consensus.idle-interval = 0s", application: "idos");
        await using var nodes = new NodeProcesses(network);
        for (var v = 0; v < 4; v++)
        {
            nodes.Start(v);
        }

        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses([0, 1, 2, 3]);
            return (statuses.All(s => s is not null && s.Height > 20), NodeProcesses.Describe(statuses));
        }, "four validators to commit 20 blocks", TimeSpan.FromSeconds(120));

        await nodes.Stop(3, TimeSpan.FromSeconds(10));
        WipeAllButKeys(network.DataDirectory(3));

        long target = 0;
        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses([0, 1, 2]);
            target = statuses.Min(s => s?.Height ?? 0);
            return (target > BlocksBehind + 20, NodeProcesses.Describe(statuses));
        }, $"three validators to commit {BlocksBehind} blocks without the fourth", Allow(600));

        nodes.Start(3);
        var catchingUp = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await Eventually.Holds(async () =>
            {
                var status = await nodes.Status(3);
                return (status is not null && status.Height > target + 10 && status.ExecutedHeight > target, NodeProcesses.Describe([status]));
            }, $"the wiped validator to catch up past height {target}", Allow(300));
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw nodes.WithLogs(e);
        }

        output.WriteLine($"the wiped validator caught up {target} blocks in {catchingUp.Elapsed.TotalSeconds:0} s");
        Assert.Equal(network.CommittedIds(0, target), network.CommittedIds(3, target));
        // A node records an app hash with its next block-store write, so another connection may see it a block late.
        await Eventually.Holds(() => Task.FromResult((AppHashAt(network, 0, target) is not null && AppHashAt(network, 3, target) is not null, "")),
            $"both app hashes at height {target} to be recorded");
        Assert.Equal(AppHashAt(network, 0, target), AppHashAt(network, 3, target));
        Assert.DoesNotContain("cannot catch up by blocks", nodes.Log(3), StringComparison.Ordinal);
    }

    /// <summary>What an operator keeps when a node's disk is lost: its keys and certificates, nothing of the chain or state.</summary>
    internal static void WipeAllButKeys(string dataDirectory)
    {
        foreach (var file in Directory.GetFiles(dataDirectory))
        {
            var name = Path.GetFileName(file);
            if (!(name.EndsWith(".key", StringComparison.Ordinal) || name.EndsWith(".pub", StringComparison.Ordinal) || name.EndsWith(".crt", StringComparison.Ordinal)))
            {
                File.Delete(file);
            }
        }

        foreach (var folder in Directory.GetDirectories(dataDirectory))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static Engine.Crypto.Hash32? AppHashAt(TestNetwork network, int validator, long height)
    {
        using var store = new Engine.Chain.SqliteBlockStore(network.BlockStorePath(validator), network.Chain.Limits);
        return store.AppHashAt(height);
    }
}
