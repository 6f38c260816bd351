using System.Text;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Scenarios;
using IdOS.Akka.Engine.Storage.Transactions;
using IdOS.Akka.Engine.Tests.Cluster;
using Xunit;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// The idOS application on four validator processes over real TCP: the scripted flow's every step comes to its
/// expected result, all validators reach the same app hash, and once the credential is removed and the retention
/// window has passed, its marker is in no file of any node's data folder (databases, WAL files, journal, keys) nor
/// in any node's output, while the pruned chain still verifies from headers, certificates and Merkle roots.
/// </summary>
[Trait("Category", "Process")]
[Collection(SerialClusters.Name)]
public sealed class IdosNetworkProcessTests
{
    private const int RetentionBlocks = 20;

    [Fact]
    public async Task The_idos_flow_agrees_on_four_processes_and_a_removed_credential_leaves_no_byte_on_any_node()
    {
        using var network = new TestNetwork(4, $"idos.node.retention {{ blocks = {RetentionBlocks}, interval = 500ms }}", application: "idos");
        await using var nodes = new NodeProcesses(network);
        await StartAll(nodes);
        var owner = OwnerOf(network, out var ownerKey);
        using var disposeOwner = ownerKey;
        var steps = new StringWriter();
        var markerStored = false;
        var flow = await new IdosFlow(new TransactionDriver(nodes.Client, nodes.Addresses, network.Chain.ChainId), owner, steps).Run(marker =>
        {
            markerStored = Enumerable.Range(0, 4).Any(v => FilesHolding(network.DataDirectory(v), marker).Count > 0);
            return Task.CompletedTask;
        });
        Assert.True(markerStored, "the scan must find the marker while the credential exists, or its later absence proves nothing");
        Assert.Equal(13, flow.Transactions);

        var removedAt = (await nodes.Status(0))!.Height;
        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses([0, 1, 2, 3]);
            var holding = Enumerable.Range(0, 4).SelectMany(v => FilesHolding(network.DataDirectory(v), flow.Marker)).ToList();
            var passed = statuses.All(s => s is not null && s.Height > removedAt + RetentionBlocks + 5);
            return (passed && holding.Count == 0, $"{NodeProcesses.Describe(statuses)}; marker still in: {string.Join(", ", holding)}");
        }, $"every node past the retention window after height {removedAt} and the marker gone from all their files", TimeSpan.FromSeconds(120));

        await AssertOneAppHash(nodes);

        for (var v = 0; v < 4; v++)
        {
            await nodes.Stop(v, TimeSpan.FromSeconds(30));
        }

        for (var v = 0; v < 4; v++)
        {
            Assert.Empty(FilesHolding(network.DataDirectory(v), flow.Marker));
            Assert.DoesNotContain(flow.Marker, nodes.FullLog(v), StringComparison.Ordinal);
            using var store = new SqliteBlockStore(Path.Combine(network.DataDirectory(v), ValidatorNode.BlockStoreFileName), network.Chain.Limits);
            Assert.True(store.PrunedHeight > removedAt - RetentionBlocks, $"validator {v} pruned only up to {store.PrunedHeight}");
            Assert.Null(store.VerifyChain(network.Chain, Ed25519Verifier.Instance));
        }
    }

    /// <summary>Brings up the four validators and waits until each sees the other three.</summary>
    internal static async Task StartAll(NodeProcesses nodes)
    {
        for (var v = 0; v < 4; v++)
        {
            nodes.Start(v);
        }

        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses([0, 1, 2, 3]);
            return (statuses.All(s => s is not null && s.PeersConnected == 3), NodeProcesses.Describe(statuses));
        }, "all 4 validators to see each other");
    }

    /// <summary>The app hash after the highest height all four have executed: the same on all, or the test fails.</summary>
    internal static async Task AssertOneAppHash(NodeProcesses nodes)
    {
        var height = (await nodes.Statuses([0, 1, 2, 3])).Min(s => s!.Height);
        var appHashes = await Task.WhenAll(nodes.Addresses.Select(a => nodes.Client.AppHash(a, height, TimeSpan.FromSeconds(5))));
        Assert.All(appHashes, a => Assert.NotNull(a.AppHash));
        Assert.Single(appHashes.Select(a => a.AppHash).Distinct());
    }

    internal static KwilSigner OwnerOf(TestNetwork network, out Ed25519PrivateKey key)
    {
        var owner = KeyFiles.ReadPrivate(network.OwnerKey);
        key = owner;
        return KwilSigner.ForEd25519(owner.PublicKey.Bytes, message => owner.Sign(message));
    }

    /// <summary>Every file under the folder whose bytes contain the marker, read while the node may be writing it.</summary>
    private static List<string> FilesHolding(string directory, string marker)
    {
        var needle = Encoding.ASCII.GetBytes(marker);
        var holding = new List<string>();
        foreach (var path in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            byte[] bytes;
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                bytes = copy.ToArray();
            }
            catch (FileNotFoundException)
            {
                continue;
            }

            if (bytes.AsSpan().IndexOf(needle) >= 0)
            {
                holding.Add(path);
            }
        }

        return holding;
    }
}

/// <summary>
/// Validators on different databases in one network: two keep the idOS state on the PostgreSQL server, two on
/// SQLite; the scripted flow executes on all four and they agree on every app hash.
/// </summary>
[Trait("Category", "Postgres")]
[Collection(SerialClusters.Name)]
public sealed class IdosMixedDatabaseProcessTests
{
    [Fact]
    public async Task Validators_on_postgresql_and_on_sqlite_execute_the_idos_flow_to_one_app_hash()
    {
        using var network = new TestNetwork(4, application: "idos");
        using var first = new Storage.PostgresTestSchema();
        using var second = new Storage.PostgresTestSchema();
        foreach (var (validator, schema) in new[] { (0, first), (1, second) })
        {
            var connection = schema.Options.ConnectionString.Replace("\"", "\\\"", StringComparison.Ordinal);
            await File.AppendAllTextAsync(network.ConfigPaths[validator],
                $"\nidos.node.state-store {{ provider = postgresql, connection-string = \"{connection}\" }}\n");
        }

        await using var nodes = new NodeProcesses(network);
        await IdosNetworkProcessTests.StartAll(nodes);
        var owner = IdosNetworkProcessTests.OwnerOf(network, out var ownerKey);
        using var disposeOwner = ownerKey;

        var flow = await new IdosFlow(new TransactionDriver(nodes.Client, nodes.Addresses, network.Chain.ChainId), owner, TextWriter.Null).Run();

        Assert.Equal(13, flow.Transactions);
        Assert.False(File.Exists(Path.Combine(network.DataDirectory(0), NodeSettings.StateFileName)), "validator 0 must keep its state on PostgreSQL");
        Assert.True(File.Exists(Path.Combine(network.DataDirectory(2), NodeSettings.StateFileName)));
        await IdosNetworkProcessTests.AssertOneAppHash(nodes);
    }
}
