using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Cli.Localnet;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Tests.Cluster;
using Xunit;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// A validator wiped (keys kept) while the others go on past their retention window, so that no peer holds the
/// bodies it would need to execute the chain again: started again, it takes the newest state snapshot its peers
/// offer, checks the chain from genesis by headers, imports the snapshot, catches up by blocks from there, and holds
/// the same chain and app hash as the others.
/// </summary>
[Trait("Category", "Process")]
[Collection(SerialClusters.Name)]
public sealed class StateSyncProcessTests
{
    private const int SnapshotInterval = 50;

    // Far enough apart that no second snapshot replaces the damaged ones before the sync has failed on them (the chain
    // rests 300 ms between empty blocks, and longer with a validator down: 30 s or more from one snapshot to the next).
    private const int DamagedSnapshotInterval = 100;

    [Fact]
    public async Task A_wiped_validator_behind_the_peers_retention_window_starts_from_a_snapshot_and_reaches_the_same_state()
    {
        using var network = new TestNetwork(4, """
            idos.consensus.idle-interval = 100ms
            idos.node.retention { blocks = 150, interval = 1s }
            akka.loglevel = INFO
            """, application: "idos", snapshotInterval: SnapshotInterval);
        await using var nodes = new NodeProcesses(network);
        await IdosNetworkProcessTests.StartAll(nodes);
        var owner = IdosNetworkProcessTests.OwnerOf(network, out var ownerKey);
        using var disposeOwner = ownerKey;
        using var writers = await IdosLoad.Prepare(new TransactionDriver(nodes.Client, nodes.Addresses, network.Chain.ChainId), owner, 6, 3);
        await IdosNetworkProcessTests.Write(nodes, writers, 6);
        await nodes.Stop(3, TimeSpan.FromSeconds(10));
        CatchUpProcessTests.WipeAllButKeys(network.DataDirectory(3));
        await IdosNetworkProcessTests.Write(nodes, writers, 6);

        long height = 0;
        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses([0, 1, 2]);
            height = statuses.Min(s => s?.ExecutedHeight ?? 0);
            using var store = new SqliteBlockStore(network.BlockStorePath(0), network.Chain.Limits);
            return (height > 4 * SnapshotInterval && store.PrunedHeight > 20, $"{NodeProcesses.Describe(statuses)}; pruned to {store.PrunedHeight}");
        }, "the three to pass their retention window and take four snapshots", TimeSpan.FromSeconds(300));

        nodes.Start(3);
        await ExecutesPast(nodes, height, TimeSpan.FromSeconds(240));

        Assert.Contains("State sync: imported the snapshot at height", nodes.FullLog(3), StringComparison.Ordinal);
        Assert.Equal(network.CommittedIds(0, height), network.CommittedIds(3, height));
        Hash32? AppHashAt(int validator)
        {
            using var store = new SqliteBlockStore(network.BlockStorePath(validator), network.Chain.Limits);
            return store.AppHashAt(height);
        }

        // A node records an app hash with its next block-store write, so another connection may see it a block late.
        await Eventually.Holds(() => Task.FromResult((AppHashAt(0) is not null && AppHashAt(3) is not null, "")), $"both app hashes at height {height} to be recorded");
        Assert.Equal(AppHashAt(0), AppHashAt(3));
        using (var synced = new SqliteBlockStore(network.BlockStorePath(3), network.Chain.Limits))
        {
            Assert.Null(synced.VerifyChain(network.Chain, Ed25519Verifier.Instance));
        }
    }

    /// <summary>
    /// Every peer's copy of the snapshot damaged on disk (one byte of its chunk flipped): the wiped validator catches
    /// each chunk against the manifest the chain certified, asks every peer that offers the snapshot (not only the
    /// f + 1 its choice needed), names each that sent a damaged chunk, imports nothing and stops with the reason. Once
    /// a peer holds an intact snapshot again (the one restored, or a newer one), the same start succeeds.
    /// </summary>
    [Fact]
    public async Task Chunks_damaged_on_every_peer_are_caught_and_the_sync_stops_then_succeeds_once_a_peer_holds_its_snapshot_intact()
    {
        using var network = new TestNetwork(4, """
            idos.consensus.idle-interval = 300ms
            akka.loglevel = INFO
            """, application: "idos", snapshotInterval: DamagedSnapshotInterval);
        await using var nodes = new NodeProcesses(network);
        await IdosNetworkProcessTests.StartAll(nodes);
        var owner = IdosNetworkProcessTests.OwnerOf(network, out var ownerKey);
        using var disposeOwner = ownerKey;
        using var writers = await IdosLoad.Prepare(new TransactionDriver(nodes.Client, nodes.Addresses, network.Chain.ChainId), owner, 3, 3);
        for (var round = 0; round < 3; round++)
        {
            await nodes.Client.Submit(nodes.Addresses[round], writers.Next(round, 40), TimeSpan.FromSeconds(10));
        }

        string[] chunks = [];
        await Eventually.Holds(() =>
        {
            chunks = [.. Enumerable.Range(0, 3).Select(v => Directory.GetFiles(Path.Combine(network.DataDirectory(v), "snapshots"), "*.chunk", SearchOption.AllDirectories))
                .Where(files => files.Length == 1).Select(files => files[0])];
            return Task.FromResult((chunks.Length == 3, $"{chunks.Length} of 3 validators hold exactly one snapshot"));
        }, "the three to take their first snapshot", TimeSpan.FromSeconds(120));
        await nodes.Stop(3, TimeSpan.FromSeconds(10));
        CatchUpProcessTests.WipeAllButKeys(network.DataDirectory(3));
        var originals = chunks.Select(File.ReadAllBytes).ToList();
        foreach (var chunk in chunks)
        {
            var bytes = File.ReadAllBytes(chunk);
            bytes[bytes.Length / 2] ^= 0x01;
            File.WriteAllBytes(chunk, bytes);
        }

        nodes.Start(3);
        await nodes.WaitForExit(3, TimeSpan.FromSeconds(60));
        var log = nodes.FullLog(3);
        var failure = log.Split('\n').FirstOrDefault(line => line.Contains("State sync failed", StringComparison.Ordinal)) ?? log;
        Assert.Contains("no peer that offered the snapshot", failure, StringComparison.Ordinal);
        var liars = System.Text.RegularExpressions.Regex.Match(failure, @"liars: ([0-9, ]+)\)");
        Assert.True(liars.Success, failure);
        Assert.True(liars.Groups[1].Value.Split(", ").Order().SequenceEqual(["0", "1", "2"]), failure);
        Assert.DoesNotContain("State sync: imported", log, StringComparison.Ordinal);

        File.WriteAllBytes(chunks[2], originals[2]);
        CatchUpProcessTests.WipeAllButKeys(network.DataDirectory(3));
        nodes.Start(3);
        var height = (await nodes.Status(0))!.ExecutedHeight;
        await ExecutesPast(nodes, height, TimeSpan.FromSeconds(120));

        Assert.Contains("State sync: imported the snapshot at height", nodes.FullLog(3), StringComparison.Ordinal);
    }

    private static async Task ExecutesPast(NodeProcesses nodes, long height, TimeSpan deadline)
    {
        try
        {
            await Eventually.Holds(async () =>
            {
                var status = await nodes.Status(3);
                return (status is not null && status.ExecutedHeight > height, NodeProcesses.Describe([status]));
            }, $"the wiped validator to execute past height {height}", deadline);
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw nodes.WithLogs(e);
        }
    }
}
