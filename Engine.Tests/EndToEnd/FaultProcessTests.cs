using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Hosting;
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
    public async Task After_an_emptied_data_folder_kill_9_SIGSTOP_and_a_clock_ahead_every_acknowledged_write_is_on_every_validator_once_with_one_app_hash()
    {
        using var network = new TestNetwork(4, application: "idos");
        await using var nodes = new NodeProcesses(network);
        await using var rpc = await RpcProcessTests.StartWithRpc(nodes);
        await using var load = await FaultLoad.Start(nodes, rpc.Endpoint, Clients, output);
        await Task.Delay(TimeSpan.FromSeconds(3));
        await load.Fault("validator 2 restarted with an empty data folder (its keys kept)", async () =>
        {
            nodes.Kill(2);
            EmptyDataFolder(network.DataDirectory(2));
            nodes.Start(2);
            await Task.Delay(TimeSpan.FromSeconds(3));
        });
        await load.Fault("kill -9 of validator 3, restarted 3 s later", async () =>
        {
            nodes.Kill(3);
            await Task.Delay(TimeSpan.FromSeconds(3));
            nodes.Start(3);
        });
        await load.Fault("SIGSTOP of validator 1 for 10 s", async () =>
        {
            nodes.Pause(1);
            await Task.Delay(TimeSpan.FromSeconds(10));
            nodes.Resume(1);
        });
        await load.Fault("validator 0 running 10 s with its clock 3 s ahead", async () =>
        {
            await nodes.Stop(0, TimeSpan.FromSeconds(10));
            nodes.Start(0, FakeClock.Ahead(TimeSpan.FromSeconds(3)));
            // Its proposals carry timestamps past the 2 s drift the others allow, which they must refuse: proof the clock moved.
            await load.Holds(async () =>
            {
                var statuses = await nodes.Statuses([1, 2, 3]);
                return (statuses.Any(s => s?.LastRejection?.Contains("ahead of local time", StringComparison.Ordinal) == true),
                    string.Join("; ", statuses.Select(s => s?.LastRejection)));
            }, "a validator to refuse a proposal of validator 0 as ahead of its clock", FaultLoad.ProgressBound);
            await Task.Delay(TimeSpan.FromSeconds(10));
            await nodes.Stop(0, TimeSpan.FromSeconds(10));
            nodes.Start(0);
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

    /// <summary>Deletes everything in a validator's data folder but its keys and TLS certificate: its chain, state and vote journal.</summary>
    private static void EmptyDataFolder(string folder)
    {
        string[] kept = ["validator.key", "validator.key.pub", TlsFiles.CertificateFileName, TlsFiles.KeyFileName];
        foreach (var file in Directory.EnumerateFiles(folder).Where(f => !kept.Contains(Path.GetFileName(f))))
        {
            File.Delete(file);
        }

        foreach (var directory in Directory.EnumerateDirectories(folder))
        {
            Directory.Delete(directory, recursive: true);
        }

        Assert.NotEmpty(Directory.EnumerateFiles(folder));
    }
}
