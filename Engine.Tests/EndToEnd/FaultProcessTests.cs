using System.Collections.Concurrent;
using System.Diagnostics;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Storage.Transactions;
using IdOS.Akka.Engine.Tests.Cluster;
using Xunit;
using Xunit.Abstractions;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// The fault suite: four validator processes and an RPC system under signed idOS writes from several clients, faults
/// injected by real means, and after they heal a checker that holds the validators to every write a client saw
/// acknowledged (<see cref="FaultChecker"/>), with positive controls that plant the faults it must catch.
/// </summary>
[Trait("Category", "Fault")]
[Collection(SerialClusters.Name)]
public sealed class FaultProcessTests(ITestOutputHelper output)
{
    private const int Clients = 3;
    private static readonly TimeSpan ProgressBound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task After_kill_9_and_restart_and_after_SIGSTOP_every_acknowledged_write_is_on_every_validator_once_with_one_app_hash()
    {
        using var network = new TestNetwork(4, application: "idos");
        await using var nodes = new NodeProcesses(network);
        await using var rpc = await RpcProcessTests.StartWithRpc(nodes);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(45) };
        var writers = await RegisterWriters(network, http, rpc.Endpoint);
        var acknowledged = new ConcurrentQueue<AcknowledgedWrite>();
        using var stop = new CancellationTokenSource();
        var load = writers.Select((w, i) => Write($"client {i}", w.Signer, http, rpc.Endpoint, network.Chain.ChainId, acknowledged, stop.Token)).ToList();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            await Fault(nodes, "kill -9 of validator 3, restarted 3 s later", async () =>
            {
                nodes.Kill(3);
                await Task.Delay(TimeSpan.FromSeconds(3));
                nodes.Start(3);
            });
            await Fault(nodes, "SIGSTOP of validator 1 for 10 s", async () =>
            {
                await nodes.Pause(1);
                await Task.Delay(TimeSpan.FromSeconds(10));
                await nodes.Resume(1);
            });
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(load);
        }

        var writes = acknowledged.ToList();
        output.WriteLine($"{writes.Count} writes acknowledged by {Clients} clients");
        Assert.True(writes.Count >= Clients * 5, $"only {writes.Count} writes were acknowledged: the load did not run");
        var records = await Records(nodes, writes);

        Assert.Empty(FaultChecker.Problems(writes, records));

        // Positive controls: a write reported acknowledged that no validator has, a transaction stored twice, an app
        // hash that differs. Each must be caught.
        var lost = new AcknowledgedWrite(Hash32.Compute("never sent"u8), "control", 0);
        var withLost = records.Select(r => r with { Results = new TransactionResults(r.Results.ExecutedHeight, [.. r.Results.Results, null]) }).ToList();
        Assert.Contains(FaultChecker.Problems([.. writes, lost], withLost), p => p.Contains("acknowledged but validator 0 has not committed it", StringComparison.Ordinal));
        var twice = records.Select((r, i) => i == 2 ? r with { CommittedTransactions = [.. r.CommittedTransactions, writes[0].Hash] } : r).ToList();
        Assert.Contains(FaultChecker.Problems(writes, twice), p => p.Contains("validator 2 committed transaction", StringComparison.Ordinal));
        var forked = records.Select((r, i) => i == 1 ? r with { AppHashAtCommonHeight = Hash32.Compute("another state"u8) } : r).ToList();
        Assert.Contains(FaultChecker.Problems(writes, forked), p => p.Contains("different app hashes", StringComparison.Ordinal));
    }

    /// <summary>
    /// Injects the fault, then requires every validator to commit past the height the others had when it healed,
    /// within <see cref="ProgressBound"/>; prints how long that took.
    /// </summary>
    private async Task Fault(NodeProcesses nodes, string fault, Func<Task> inject)
    {
        await inject();
        var healed = Stopwatch.StartNew();
        var height = (await nodes.Statuses([0, 1, 2, 3])).Max(s => s?.Height ?? 0);
        try
        {
            await Eventually.Holds(async () =>
            {
                var statuses = await nodes.Statuses([0, 1, 2, 3]);
                return (statuses.All(s => s is not null && s.Height > height + 2), NodeProcesses.Describe(statuses));
            }, $"every validator to commit past height {height + 2} after the {fault}", ProgressBound);
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw new Xunit.Sdk.XunitException(e.Message + string.Concat(Enumerable.Range(0, 4).Select(v => $"\nvalidator {v}:\n{nodes.Log(v)}")), e);
        }
        output.WriteLine($"after the {fault}: every validator past height {height + 2} in {healed.Elapsed.TotalSeconds:0.0} s (bound {ProgressBound.TotalSeconds:0} s)");
    }

    /// <summary>The owner registers an inserter and one delegate per client: each client writes with its own key and nonces.</summary>
    private static async Task<List<(Ed25519PrivateKey Key, KwilSigner Signer)>> RegisterWriters(TestNetwork network, HttpClient http, Uri endpoint)
    {
        var owner = IdosNetworkProcessTests.OwnerOf(network, out var ownerKey);
        using var disposeOwner = ownerKey;
        var writers = Enumerable.Range(0, Clients).Select(_ =>
        {
            var key = Ed25519PrivateKey.GenerateExportable();
            return (key, KwilSigner.ForEd25519(key.PublicKey.Bytes, message => key.Sign(message)));
        }).ToList();
        var inserter = Guid.NewGuid();
        var nonce = (ulong)(long)(await RpcProcessTests.Call(http, endpoint, "user.account", RpcProcessTests.Account(owner)))["result"]!["nonce"]!;
        List<(string Action, KwilValue[] Arguments)> calls = [("add_inserter_as_owner", [KwilValue.OfUuid(inserter), KwilValue.OfText("fault-suite")])];
        calls.AddRange(writers.Select(w => ("add_delegate_as_owner", new[] { KwilValue.OfText(w.Item2.Caller), KwilValue.OfUuid(inserter) })));
        foreach (var (action, arguments) in calls)
        {
            var answer = await RpcProcessTests.Broadcast(http, endpoint, owner.Execute(network.Chain.ChainId, ++nonce, action, arguments), sync: true);
            Assert.True((int?)answer["result"]?["result"]?["code"] == 0, answer.ToJsonString());
        }

        return writers;
    }

    /// <summary>
    /// One client: a signed add_user_as_inserter, broadcast and waited for (sync), the next. A write without code 0
    /// (the RPC system or a validator unreachable, a timeout) is not acknowledged; the client then asks for its
    /// account's committed nonce and goes on from there.
    /// </summary>
    private static async Task Write(string name, KwilSigner signer, HttpClient http, Uri endpoint, string chainId, ConcurrentQueue<AcknowledgedWrite> acknowledged,
        CancellationToken stop)
    {
        ulong nonce = 0;
        while (!stop.IsCancellationRequested)
        {
            var transaction = signer.Execute(chainId, nonce + 1, "add_user_as_inserter",
                [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("recipient-encryption-key"), KwilValue.OfText("user")]);
            try
            {
                var answer = await RpcProcessTests.Broadcast(http, endpoint, transaction, sync: true);
                if ((int?)answer["result"]?["result"]?["code"] == 0)
                {
                    acknowledged.Enqueue(new AcknowledgedWrite(Block.TransactionHash(transaction), name, nonce + 1));
                    nonce++;
                    continue;
                }

                await Task.Delay(500, CancellationToken.None);
                var account = await RpcProcessTests.Call(http, endpoint, "user.account", RpcProcessTests.Account(signer));
                nonce = (ulong)(long)account["result"]!["nonce"]!;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or Xunit.Sdk.XunitException or NullReferenceException)
            {
                await Task.Delay(500, CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// Waits until every validator has executed the height the furthest one had when the load stopped, asks each for
    /// the acknowledged writes' results, then stops them (SIGTERM) and reads their block stores.
    /// </summary>
    private static async Task<List<ValidatorRecord>> Records(NodeProcesses nodes, List<AcknowledgedWrite> writes)
    {
        var target = (await nodes.Statuses([0, 1, 2, 3])).Max(s => s?.Height ?? 0);
        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses([0, 1, 2, 3]);
            return (statuses.All(s => s is not null && s.Height >= target), NodeProcesses.Describe(statuses));
        }, $"every validator to reach height {target}", ProgressBound);

        var results = new List<TransactionResults>();
        for (var v = 0; v < 4; v++)
        {
            var outcomes = new List<TransactionOutcome?>();
            long executed = 0;
            foreach (var chunk in writes.Chunk(200))
            {
                var answer = await nodes.Client.Results(nodes.Addresses[v], [.. chunk.Select(w => w.Hash)], TimeSpan.FromSeconds(10));
                outcomes.AddRange(answer.Results);
                executed = answer.ExecutedHeight;
            }

            results.Add(new TransactionResults(executed, outcomes));
        }

        for (var v = 0; v < 4; v++)
        {
            await nodes.Stop(v, TimeSpan.FromSeconds(10));
        }

        var stores = Enumerable.Range(0, 4).Select(v => new SqliteBlockStore(nodes.Network.BlockStorePath(v), nodes.Network.Chain.Limits)).ToList();
        try
        {
            var common = stores.Min(s => s.Height);
            return [.. stores.Select((store, v) => new ValidatorRecord(v, results[v], store.AllTransactionHashes(), store.Height, store.AppHashAt(common)))];
        }
        finally
        {
            stores.ForEach(s => s.Dispose());
        }
    }
}
