using System.Text;
using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Cli.Localnet;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Tests.Cluster;
using Xunit;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// The idOS application on four validator processes over real TCP: the scripted flow's every step comes to its
/// expected result, all validators reach the same app hash, and once the credential is removed and the retention
/// window has passed, its marker is in no file of any node's data folder (databases, WAL files, journal, keys) nor
/// in any node's output (its INFO log as JSON, one object per line, which names neither the marker nor the user's
/// address), while the pruned chain still verifies from headers, certificates and Merkle roots.
/// </summary>
[Trait("Category", "Process")]
[Collection(SerialClusters.Name)]
public sealed class IdosNetworkProcessTests
{
    private const int RetentionBlocks = 20;

    [Fact]
    public async Task The_idos_flow_agrees_on_four_processes_and_a_removed_credential_leaves_no_byte_on_any_node()
    {
        // The nodes log every event at INFO as JSON, which is what an operator's log shipper keeps.
        using var network = new TestNetwork(4, $$"""
            idos.node.retention { blocks = {{RetentionBlocks}}, interval = 500ms }
            idos.node.log-format = json
            akka.loglevel = INFO
            """, application: "idos");
        await using var nodes = new NodeProcesses(network);
        await StartAll(nodes);
        var owner = OwnerOf(network, out var ownerKey);
        using var disposeOwner = ownerKey;
        var steps = new StringWriter();
        var markerStored = false;
        var flow = await new IdosFlow(new TransactionDriver(nodes.Client, nodes.Addresses, network.Chain.ChainId), owner, steps).Run(marker =>
        {
            markerStored = Enumerable.Range(0, 4).Any(v => FilesHolding(network.DataDirectory(v), marker).Holding.Count > 0);
            return Task.CompletedTask;
        });
        Assert.True(markerStored, "the scan must find the marker while the credential exists, or its later absence proves nothing");
        Assert.Equal(13, flow.Transactions);

        var removedAt = (await nodes.Status(0))!.Height;
        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses([0, 1, 2, 3]);
            var scans = Enumerable.Range(0, 4).Select(v => FilesHolding(network.DataDirectory(v), flow.Marker)).ToList();
            var holding = scans.SelectMany(s => s.Holding).ToList();
            var locked = scans.SelectMany(s => s.Locked).ToList();
            var passed = statuses.All(s => s is not null && s.Height > removedAt + RetentionBlocks + 5);
            return (passed && holding.Count == 0 && locked.Count == 0,
                $"{NodeProcesses.Describe(statuses)}; marker still in: {string.Join(", ", holding)}; locked by a writer: {string.Join(", ", locked)}");
        }, $"every node past the retention window after height {removedAt} and the marker gone from all their files", TimeSpan.FromSeconds(120));

        await AssertOneAppHash(nodes);

        for (var v = 0; v < 4; v++)
        {
            await nodes.Stop(v, TimeSpan.FromSeconds(30));
        }

        for (var v = 0; v < 4; v++)
        {
            var scan = FilesHolding(network.DataDirectory(v), flow.Marker);
            Assert.Empty(scan.Holding);
            Assert.Empty(scan.Locked);
            var log = nodes.FullLog(v);
            Assert.DoesNotContain(flow.Marker, log, StringComparison.Ordinal);
            Assert.DoesNotContain(flow.UserAddress[2..], log, StringComparison.OrdinalIgnoreCase);
            // Each line as the harness keeps it: its arrival time, a space, the node's line; and its own start markers.
            var events = log.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line[(line.IndexOf(' ', StringComparison.Ordinal) + 1)..])
                .Where(line => !line.StartsWith("--- ", StringComparison.Ordinal)).ToList();
            Assert.True(events.Count > 20, $"validator {v} logged only {events.Count} lines");
            Assert.All(events, line => Assert.True(System.Text.Json.Nodes.JsonNode.Parse(line) is System.Text.Json.Nodes.JsonObject { } e && e.ContainsKey("@t") && e.ContainsKey("@m"), line));
            using var store = new SqliteBlockStore(Path.Combine(network.DataDirectory(v), ValidatorNode.BlockStoreFileName), network.Chain.Limits);
            Assert.True(store.PrunedHeight > removedAt - RetentionBlocks, $"validator {v} pruned only up to {store.PrunedHeight}");
            Assert.Null(store.VerifyChain(network.Chain, Ed25519Verifier.Instance));
        }
    }

    /// <summary>
    /// kill -9 of a validator while it executes idOS blocks under load: restarted, its state is before or after
    /// whole blocks, it catches up, and it holds the same app hash and the same result for every transaction.
    /// </summary>
    [Fact]
    public async Task A_validator_killed_while_executing_idos_writes_restarts_to_the_same_state_and_results()
    {
        using var network = new TestNetwork(4, application: "idos");
        await using var nodes = new NodeProcesses(network);
        await StartAll(nodes);
        var owner = OwnerOf(network, out var ownerKey);
        using var disposeOwner = ownerKey;

        // Writers submit to validators 0-2 only, so the kill never cuts a writer's nonce sequence.
        using var writers = await IdosLoad.Prepare(new TransactionDriver(nodes.Client, nodes.Addresses, network.Chain.ChainId), owner, 6, 3);
        var submitted = new List<Hash32>();
        using var stop = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            for (var round = 0; !stop.IsCancellationRequested; round++)
            {
                var validator = round % 3;
                var batch = writers.Next(validator, 40);
                var results = await nodes.Client.Submit(nodes.Addresses[validator], batch, TimeSpan.FromSeconds(10));
                Assert.All(results.Results, r => Assert.Equal(MempoolAddStatus.Added, r.Status));
                submitted.AddRange(batch.Select(t => Block.TransactionHash(t)));
                await Task.Delay(100, CancellationToken.None);
            }
        });

        await Eventually.Holds(async () => ((await nodes.Status(3))?.CommittedTransactions > 500, "validator 3 executing the load"), "validator 3 to execute 500 writes");
        nodes.Kill(3);
        var heightAtKill = (await nodes.Status(0))!.Height;
        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses([0, 1, 2]);
            return (statuses.All(s => s is not null && s.Height >= heightAtKill + 10), NodeProcesses.Describe(statuses));
        }, "the other 3 to commit 10 more blocks");
        nodes.Start(3);
        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses([0, 1, 2, 3]);
            return (statuses.All(s => s is not null) && statuses[3]!.Height >= statuses.Take(3).Min(s => s!.Height), NodeProcesses.Describe(statuses));
        }, "the restarted validator 3 to reach the others", TimeSpan.FromSeconds(120));
        await stop.CancelAsync();
        await load;

        List<TransactionOutcome?> ResultsOn(int validator, IEnumerable<Hash32> hashes) =>
            [.. hashes.Chunk(NodeMessageCodec.MaxQueriedTransactions)
                .SelectMany(chunk => nodes.Client.Results(nodes.Addresses[validator], chunk, TimeSpan.FromSeconds(10)).GetAwaiter().GetResult().Results)];
        await Eventually.Holds(() =>
        {
            var pending = Enumerable.Range(0, 4).Sum(v => ResultsOn(v, submitted).Count(r => r is null));
            return Task.FromResult((pending == 0, $"{pending} results still missing across the validators"));
        }, "every submitted write executed on all four");

        var reference = ResultsOn(0, submitted);
        Assert.All(reference, r => Assert.Equal(0, r!.Code));
        Assert.Equal(reference, ResultsOn(3, submitted));
        await AssertOneAppHash(nodes);
    }

    /// <summary>Brings up the four validators and waits until each sees the other three.</summary>
    /// <summary>Batches of 40 idOS writes to validators 0, 1 and 2 in turn (writer i's on validator i), each admitted, or the test fails.</summary>
    internal static async Task Write(NodeProcesses nodes, IdosLoad writers, int batches)
    {
        for (var round = 0; round < batches; round++)
        {
            var results = await nodes.Client.Submit(nodes.Addresses[round % 3], writers.Next(round % 3, 40), TimeSpan.FromSeconds(10));
            Assert.All(results.Results, r => Assert.Equal(MempoolAddStatus.Added, r.Status));
        }
    }

    internal static async Task StartAll(NodeProcesses nodes)
    {
        var count = nodes.Network.Chain.Validators.Count;
        for (var v = 0; v < count; v++)
        {
            nodes.Start(v);
        }

        try
        {
            await Eventually.Holds(async () =>
            {
                var statuses = await nodes.Statuses(Enumerable.Range(0, count));
                return (statuses.All(s => s is not null && s.PeersConnected == count - 1), NodeProcesses.Describe(statuses));
            }, $"all {count} validators to see each other");
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw nodes.WithLogs(e);
        }
    }

    /// <summary>The app hash after the highest height all four have executed: the same on all, or the test fails.</summary>
    internal static async Task AssertOneAppHash(NodeProcesses nodes)
    {
        var height = (await nodes.Statuses([0, 1, 2, 3])).Min(s => s!.ExecutedHeight);
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

    /// <summary>
    /// Every file under the folder whose bytes contain the marker, read while the node may be writing it. A file its
    /// writer holds under an exclusive lock cannot be read at this moment and is listed apart, so a caller never
    /// takes an unread file for a clean one.
    /// </summary>
    private static (List<string> Holding, List<string> Locked) FilesHolding(string directory, string marker)
    {
        var needle = Encoding.ASCII.GetBytes(marker);
        var holding = new List<string>();
        var locked = new List<string>();
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
            catch (IOException) when (!File.Exists(path))
            {
                // Locked when opened and renamed or deleted since (a run of the transaction index moved into place):
                // it is read under its new name, if it has one.
                continue;
            }
            catch (IOException)
            {
                locked.Add(path);
                continue;
            }

            if (bytes.AsSpan().IndexOf(needle) >= 0)
            {
                holding.Add(path);
            }
        }

        return (holding, locked);
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
