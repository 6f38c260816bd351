using Akka.Actor;
using Akka.Remote;
using Akka.Remote.Transport;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Cluster;

/// <summary>
/// Membership under a partition with the shipped settings: a validator cut off for 30 s (longer than the default
/// split-brain resolver's 20 s, which would have shut it down) stays alive, and when the link heals every member is
/// Up and reachable again without any restart.
/// </summary>
[Trait("Category", "Cluster")]
[Collection(SerialClusters.Name)]
public sealed class PartitionTests
{
    [Fact]
    public async Task A_validator_cut_off_for_30_seconds_is_not_downed_and_rejoins_when_the_link_heals()
    {
        // The throttler adapter is what lets a test blackhole a link; it is a test-only transport wrapper.
        await using var cluster = new LoopbackCluster("""akka.remote.dot-netty.tcp.applied-adapters = ["trttl"]""");
        await LoopbackCluster.WaitUntil(cluster.AllUpAndReachable, "4 members Up everywhere");
        var isolated = cluster.Systems[3];
        var isolatedAddress = LoopbackCluster.AddressOf(isolated);
        var others = cluster.Systems.Take(3).ToList();

        await SetLinks(cluster, isolated, Blackhole.Instance);
        await LoopbackCluster.WaitUntil(() => others.All(s => LoopbackCluster.SeesUnreachable(s, isolatedAddress)),
            "the other three to mark the isolated node unreachable");
        await Task.Delay(TimeSpan.FromSeconds(30));

        Assert.False(isolated.WhenTerminated.IsCompleted, "the isolated node's ActorSystem was shut down");
        Assert.All(others, s => Assert.True(LoopbackCluster.HasMember(s, isolatedAddress)));

        await SetLinks(cluster, isolated, Unthrottled.Instance);
        await LoopbackCluster.WaitUntil(cluster.AllUpAndReachable, "all 4 Up and reachable after the heal");
        Assert.False(isolated.WhenTerminated.IsCompleted);
    }

    private static async Task SetLinks(LoopbackCluster cluster, ActorSystem isolated, ThrottleMode mode)
    {
        var transport = ((RemoteActorRefProvider)((ExtendedActorSystem)isolated).Provider).Transport;
        foreach (var peer in cluster.Systems.Where(s => s != isolated))
        {
            Assert.True(await transport.ManagementCommand(
                new SetThrottle(LoopbackCluster.AddressOf(peer), ThrottleTransportAdapter.Direction.Both, mode)));
        }
    }
}
