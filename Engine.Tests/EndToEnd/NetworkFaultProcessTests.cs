using IdOS.Akka.Engine.Faults;
using IdOS.Akka.Engine.Tests.Cluster;
using Xunit;
using Xunit.Abstractions;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// The fault suite's network faults: four validator processes, each behind a TCP fault proxy it advertises as its
/// address, under signed idOS writes through an RPC system. One validator's links are delayed, muted, cut and
/// blackholed in turn (the other three must keep committing meanwhile), then a 2/2 split must stall every validator
/// and heal. After all of it the checker holds every validator to every acknowledged write.
/// </summary>
[Trait("Category", "Fault")]
[Collection(SerialClusters.Name)]
public sealed class NetworkFaultProcessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Hold = TimeSpan.FromSeconds(10);

    // Round timers back off up to 16 s after consecutive timeouts, and validators whose rounds drifted apart meet again
    // only when one's timer fires: a fault may hold the network that long before it commits again.
    private static readonly TimeSpan StallBound = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task Through_delayed_muted_cut_and_blackholed_links_and_a_2_2_split_every_acknowledged_write_is_on_every_validator_once()
    {
        using var network = new TestNetwork(4, application: "idos", behindProxies: true);
        await using var nodes = new NodeProcesses(network);
        await using var proxies = new FaultProxies(network.Ports, network.BackendPorts, nodes.ProcessId);
        await using var rpc = await RpcProcessTests.StartWithRpc(nodes);
        await using var load = await FaultLoad.Start(nodes, rpc.Endpoint, 3, output);
        var links = proxies.Links;

        await OneValidator(load, nodes, links, 2, "every link of validator 2 delayed 150 ms each way", () => links.Isolate(2, LinkRule.Delaying(TimeSpan.FromMilliseconds(150))));
        await OneValidator(load, nodes, links, 0, "validator 0 muted: its bytes to the others swallowed, theirs delivered", () => links.Mute(0, LinkRule.Swallowing));
        await OneValidator(load, nodes, links, 1, "validator 1 cut off: its connections reset and new ones refused", () => links.Isolate(1, LinkRule.Cutting));
        await OneValidator(load, nodes, links, 3, "validator 3 blackholed: its connections open, every byte either way swallowed", () => links.Isolate(3, LinkRule.Swallowing));

        await load.Fault("2/2 split of validators 0, 1 from 2, 3 for 10 s", async () =>
        {
            links.Split([0, 1], LinkRule.Cutting);
            // Blocks certified before the split may still commit; after that neither half has a quorum of three.
            await Task.Delay(TimeSpan.FromSeconds(3));
            var before = await nodes.Statuses([0, 1, 2, 3]);
            await Task.Delay(Hold);
            var after = await nodes.Statuses([0, 1, 2, 3]);
            output.WriteLine($"split: {links.Describe()}; heights {NodeProcesses.Describe(before)} then {NodeProcesses.Describe(after)}");
            // A validator behind may still fetch and commit blocks certified before the split; none goes past them.
            Assert.All(before.Concat(after), s => Assert.NotNull(s));
            var head = before.Max(s => s!.Height);
            Assert.All(after, s => Assert.True(s!.Height <= head, $"validator {s.Validator} committed height {s.Height} during a 2/2 split, past the {head} certified before it"));
            links.Heal();
        });

        output.WriteLine($"{proxies.ForeignConnections} connections from clients and the RPC system passed untouched");
        var (writes, records) = await load.Finish();
        Assert.Empty(FaultChecker.Problems(writes, records));
    }

    /// <summary>
    /// Holds a fault of one validator's links for <see cref="Hold"/> and requires the other three to commit while it
    /// lasts, within <see cref="StallBound"/> of its start (one faulty validator of four must not stop the network; how
    /// fast it goes is the benchmark's to measure), then heals and requires all four to commit on
    /// (<see cref="FaultLoad.Fault"/>).
    /// </summary>
    private async Task OneValidator(FaultLoad load, NodeProcesses nodes, LinkFaults links, int faulty, string fault, Action inject)
    {
        int[] others = [.. Enumerable.Range(0, 4).Where(v => v != faulty)];
        await load.Fault(fault, async () =>
        {
            inject();
            var held = System.Diagnostics.Stopwatch.StartNew();
            var started = await nodes.Statuses(others);
            var head = started.Max(s => s?.Height ?? 0);
            // The network, not each validator: one of the three may be fetching blocks it missed at the moment of a sample.
            await load.Holds(async () =>
            {
                var now = await nodes.Statuses(others);
                return (now.Max(s => s?.Height ?? 0) > head, NodeProcesses.Describe(now));
            }, $"the other three to commit past height {head} while {fault}", StallBound);
            var committed = held.Elapsed;
            if (Hold - held.Elapsed is { Ticks: > 0 } rest)
            {
                await Task.Delay(rest);
            }

            var ended = await nodes.Statuses(others);
            output.WriteLine($"{fault}: the others' first commit after {committed.TotalSeconds:0.0} s (bound {StallBound.TotalSeconds:0} s); " +
                $"{NodeProcesses.Describe(started)} to {NodeProcesses.Describe(ended)}");
            links.Heal();
        });
    }
}
