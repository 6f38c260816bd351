using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;
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

    [Fact]
    public async Task After_kill_9_and_restart_and_after_SIGSTOP_every_acknowledged_write_is_on_every_validator_once_with_one_app_hash()
    {
        using var network = new TestNetwork(4, application: "idos");
        await using var nodes = new NodeProcesses(network);
        await using var rpc = await RpcProcessTests.StartWithRpc(nodes);
        await using var load = await FaultLoad.Start(nodes, rpc.Endpoint, Clients, output);
        await Task.Delay(TimeSpan.FromSeconds(3));
        await load.Fault("kill -9 of validator 3, restarted 3 s later", async () =>
        {
            nodes.Kill(3);
            await Task.Delay(TimeSpan.FromSeconds(3));
            nodes.Start(3);
        });
        await load.Fault("SIGSTOP of validator 1 for 10 s", async () =>
        {
            await nodes.Pause(1);
            await Task.Delay(TimeSpan.FromSeconds(10));
            await nodes.Resume(1);
        });

        var (writes, records) = await load.Finish();
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
}
