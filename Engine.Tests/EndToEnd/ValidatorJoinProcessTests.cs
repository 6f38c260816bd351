using IdOS.Akka.Engine.Tests.Cluster;
using Xunit;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// Validators joining while one validator is dead. The dead one stays unreachable in the cluster and is never downed,
/// so cluster convergence is held back: Akka leaves a newcomer Joining and admits a restarted member's new
/// incarnation only once its old one is removed. Consensus must not wait for that.
/// </summary>
[Trait("Category", "Process")]
[Collection(SerialClusters.Name)]
public sealed class ValidatorJoinProcessTests
{
    /// <summary>
    /// Validators 0–2 run, then 1 (a seed) dies; 3 starts for the first time and finds 2, which no seed it can reach
    /// names, only through 0's hint, and the three live validators commit together. Before the peer directory linked
    /// validators without membership, 3 sat at 0 peers and the network stalled. Then 2 is killed and restarted on its
    /// data folder, a new incarnation Akka cannot admit while 1 is unreachable, and the chain goes on, which with three
    /// of four alive needs its vote. Last, the live ones are stopped as an operator stops them, each with more of its
    /// peers dead.
    /// </summary>
    [Fact]
    public async Task A_validator_starting_or_restarting_while_another_is_dead_reaches_its_peers_and_the_three_commit()
    {
        using var network = new TestNetwork(4);
        await using var nodes = new NodeProcesses(network);
        for (var v = 0; v < 3; v++)
        {
            nodes.Start(v);
        }

        try
        {
            await ThreeCommit(nodes, [0, 1, 2], 0, "validators 0, 1 and 2");
            nodes.Kill(1);
            await nodes.WaitForExit(1, TimeSpan.FromSeconds(30));

            nodes.Start(3);
            var heightAtStart = (await nodes.Statuses([0, 2])).Max(s => s?.Height ?? 0);
            await ThreeCommit(nodes, [0, 2, 3], heightAtStart, "validators 0, 2 and the newly started 3, with 1 dead");

            nodes.Kill(2);
            await nodes.WaitForExit(2, TimeSpan.FromSeconds(30));
            nodes.Start(2);
            var heightAtRestart = (await nodes.Statuses([0, 3])).Max(s => s?.Height ?? 0);
            await ThreeCommit(nodes, [0, 2, 3], heightAtRestart, "validators 0, 3 and 2 restarted after kill -9, with 1 dead");
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw nodes.WithLogs(e);
        }

        // An operator's stop (SIGTERM) ends a node within 10 s however many of its peers are dead: one, two, then all.
        // (With Akka's default leave timeouts, 5 s and 10 s, the first stop takes longer than that: checked by hand.)
        foreach (var v in new[] { 0, 2, 3 })
        {
            await nodes.Stop(v, TimeSpan.FromSeconds(10));
            Assert.Contains("stopped", nodes.Log(v), StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// The three see each other (the live ones may still count the dead validator) and commit 5 blocks past
    /// <paramref name="height"/>. The chain is idle, so each block waits out its leader's idle interval, and a round
    /// the absent validator leads (rarely, once the committed blocks show it absent) waits out a round timer.
    /// </summary>
    private static Task ThreeCommit(NodeProcesses nodes, int[] validators, long height, string who) =>
        Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses(validators);
            return (statuses.All(s => s is not null && s.PeersConnected >= 2 && s.Height > height + 5), NodeProcesses.Describe(statuses));
        }, $"{who} to see each other and commit 5 blocks past height {height}", TimeSpan.FromSeconds(120));
}
