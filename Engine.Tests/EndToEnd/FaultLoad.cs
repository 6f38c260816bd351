using System.Collections.Concurrent;
using System.Diagnostics;
using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Tests.Cluster;
using Xunit;
using Xunit.Abstractions;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// The fault suite's load and its judgement: several clients, each with its own key, write signed idOS users through
/// an RPC system and keep every write acknowledged with code 0; after the faults, every validator is held to them
/// (<see cref="FaultChecker"/>).
/// </summary>
internal sealed class FaultLoad : IAsyncDisposable
{
    public static readonly TimeSpan ProgressBound = TimeSpan.FromSeconds(60);

    private readonly NodeProcesses _nodes;
    private readonly ITestOutputHelper _output;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(45) };
    private readonly ConcurrentQueue<AcknowledgedWrite> _acknowledged = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Ed25519PrivateKey> _keys = [];
    private List<Task> _clients = [];

    private FaultLoad(NodeProcesses nodes, ITestOutputHelper output) => (_nodes, _output) = (nodes, output);

    public int Clients => _clients.Count;

    /// <summary>The owner registers an inserter and one delegate per client through <paramref name="rpc"/>, then the clients write until stopped.</summary>
    public static async Task<FaultLoad> Start(NodeProcesses nodes, Uri rpc, int clients, ITestOutputHelper output)
    {
        var load = new FaultLoad(nodes, output);
        var writers = await load.RegisterWriters(rpc, clients);
        var chainId = nodes.Network.Chain.ChainId;
        load._clients = [.. writers.Select((w, i) => load.Write($"client {i}", w, rpc, chainId))];
        return load;
    }

    /// <summary>
    /// Injects the fault, then requires every validator to commit past the height the furthest had when it healed,
    /// within <see cref="ProgressBound"/>; prints how long that took.
    /// </summary>
    public async Task Fault(string fault, Func<Task> inject)
    {
        try
        {
            await inject();
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw _nodes.WithLogs(e);
        }

        var healed = Stopwatch.StartNew();
        var height = (await _nodes.Statuses([0, 1, 2, 3])).Max(s => s?.Height ?? 0);
        await Holds(async () =>
        {
            var statuses = await _nodes.Statuses([0, 1, 2, 3]);
            return (statuses.All(s => s is not null && s.Height > height + 2), NodeProcesses.Describe(statuses));
        }, $"every validator to commit past height {height + 2} after the {fault}", ProgressBound);
        _output.WriteLine($"after the {fault}: every validator past height {height + 2} in {healed.Elapsed.TotalSeconds:0.0} s (bound {ProgressBound.TotalSeconds:0} s)");
    }

    /// <summary><see cref="Eventually.Holds"/>, failing with the tail of every validator's output.</summary>
    public async Task Holds(Func<Task<(bool Done, string Observed)>> condition, string what, TimeSpan deadline)
    {
        try
        {
            await Eventually.Holds(condition, what, deadline);
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw _nodes.WithLogs(e);
        }
    }

    /// <summary>
    /// Stops the clients, waits until every validator has executed the height the furthest one had, asks each for
    /// the acknowledged writes' results, then stops them (SIGTERM) and reads their block stores.
    /// </summary>
    public async Task<(List<AcknowledgedWrite> Writes, List<ValidatorRecord> Records)> Finish()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients);
        var writes = _acknowledged.ToList();
        _output.WriteLine($"{writes.Count} writes acknowledged by {Clients} clients");
        Assert.True(writes.Count >= Clients * 5, $"only {writes.Count} writes were acknowledged: the load did not run");

        var target = (await _nodes.Statuses([0, 1, 2, 3])).Max(s => s?.Height ?? 0);
        await Holds(async () =>
        {
            var statuses = await _nodes.Statuses([0, 1, 2, 3]);
            return (statuses.All(s => s is not null && s.ExecutedHeight >= target), NodeProcesses.Describe(statuses));
        }, $"every validator to execute height {target}", ProgressBound);

        var results = new List<TransactionResults>();
        for (var v = 0; v < 4; v++)
        {
            var outcomes = new List<TransactionOutcome?>();
            long executed = 0;
            foreach (var chunk in writes.Chunk(200))
            {
                var answer = await _nodes.Client.Results(_nodes.Addresses[v], [.. chunk.Select(w => w.Hash)], TimeSpan.FromSeconds(10));
                outcomes.AddRange(answer.Results);
                executed = answer.ExecutedHeight;
            }

            results.Add(new TransactionResults(executed, outcomes));
        }

        for (var v = 0; v < 4; v++)
        {
            await _nodes.Stop(v, TimeSpan.FromSeconds(10));
        }

        var stores = Enumerable.Range(0, 4).Select(v => new SqliteBlockStore(_nodes.Network.BlockStorePath(v), _nodes.Network.Chain.Limits)).ToList();
        try
        {
            var common = stores.Min(s => s.ExecutedHeight);
            return (writes, [.. stores.Select((store, v) => new ValidatorRecord(v, results[v], store.AllTransactionHashes(), store.Height, store.AppHashAt(common)))]);
        }
        finally
        {
            stores.ForEach(s => s.Dispose());
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
        _http.Dispose();
        _keys.ForEach(k => k.Dispose());
    }

    private async Task<List<KwilSigner>> RegisterWriters(Uri rpc, int clients)
    {
        var network = _nodes.Network;
        var owner = IdosNetworkProcessTests.OwnerOf(network, out var ownerKey);
        using var disposeOwner = ownerKey;
        var writers = Enumerable.Range(0, clients).Select(_ =>
        {
            var key = Ed25519PrivateKey.GenerateExportable();
            _keys.Add(key);
            return KwilSigner.ForEd25519(key.PublicKey.Bytes, message => key.Sign(message));
        }).ToList();
        var inserter = Guid.NewGuid();
        var nonce = (ulong)(long)(await RpcProcessTests.Call(_http, rpc, "user.account", RpcProcessTests.Account(owner)))["result"]!["nonce"]!;
        List<(string Action, KwilValue[] Arguments)> calls = [("add_inserter_as_owner", [KwilValue.OfUuid(inserter), KwilValue.OfText("fault-suite")])];
        calls.AddRange(writers.Select(w => ("add_delegate_as_owner", new[] { KwilValue.OfText(w.Caller), KwilValue.OfUuid(inserter) })));
        foreach (var (action, arguments) in calls)
        {
            var answer = await RpcProcessTests.Broadcast(_http, rpc, owner.Execute(network.Chain.ChainId, ++nonce, action, arguments), sync: true);
            Assert.True((int?)answer["result"]?["result"]?["code"] == 0, answer.ToJsonString());
        }

        return writers;
    }

    /// <summary>
    /// One client: a signed add_user_as_inserter, broadcast and waited for (sync), the next. A write without code 0
    /// (the RPC system or a validator unreachable, a timeout) is not acknowledged; the client then asks for its
    /// account's committed nonce and goes on from there.
    /// </summary>
    private async Task Write(string name, KwilSigner signer, Uri rpc, string chainId)
    {
        ulong nonce = 0;
        while (!_stop.IsCancellationRequested)
        {
            var transaction = signer.Execute(chainId, nonce + 1, "add_user_as_inserter",
                [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("recipient-encryption-key"), KwilValue.OfText("user")]);
            try
            {
                var answer = await RpcProcessTests.Broadcast(_http, rpc, transaction, sync: true);
                if ((int?)answer["result"]?["result"]?["code"] == 0)
                {
                    _acknowledged.Enqueue(new AcknowledgedWrite(Block.TransactionHash(transaction), name, nonce + 1));
                    nonce++;
                    continue;
                }

                await Task.Delay(500, CancellationToken.None);
                var account = await RpcProcessTests.Call(_http, rpc, "user.account", RpcProcessTests.Account(signer));
                nonce = (ulong)(long)account["result"]!["nonce"]!;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or Xunit.Sdk.XunitException or NullReferenceException)
            {
                await Task.Delay(500, CancellationToken.None);
            }
        }
    }
}
