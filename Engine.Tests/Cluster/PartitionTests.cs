using Akka.Actor;
using Akka.Configuration;
using Akka.Remote;
using Akka.Remote.Transport;
using Xunit;
using AkkaCluster = Akka.Cluster.Cluster;
using MemberStatus = Akka.Cluster.MemberStatus;

namespace IdOS.Akka.Engine.Tests.Cluster;

/// <summary>
/// Membership under a partition with the shipped settings: a validator cut off for 30 s (longer than the default
/// split-brain resolver's 20 s, which would have shut it down) stays alive, and when the link heals every member is
/// Up and reachable again without any restart.
/// </summary>
[Trait("Category", "Cluster")]
[Collection(SerialClusters.Name)]
public sealed class PartitionTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly List<ActorSystem> _systems = [];

    public Task InitializeAsync()
    {
        // The throttler adapter is what lets a test blackhole a link; it is a test-only transport wrapper.
        var config = ConfigurationFactory.ParseString("""
            akka.remote.dot-netty.tcp.applied-adapters = ["trttl"]
            akka.cluster.seed-node-timeout = 2s
            akka.cluster.gossip-interval = 200ms
            akka.cluster.leader-actions-interval = 200ms
            akka.loglevel = ERROR
            """).WithFallback(ConfigurationFactory.ParseString(TestFiles.NodeConf));
        for (var i = 0; i < 4; i++)
        {
            _systems.Add(ActorSystem.Create("idos", config));
        }

        var seeds = _systems.Take(2).Select(s => AkkaCluster.Get(s).SelfAddress).ToList();
        foreach (var system in _systems)
        {
            AkkaCluster.Get(system).JoinSeedNodes(seeds);
        }

        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Task.WhenAll(_systems.Select(s => s.Terminate()));

    [Fact]
    public async Task A_validator_cut_off_for_30_seconds_is_not_downed_and_rejoins_when_the_link_heals()
    {
        await WaitUntil(() => _systems.All(s => UpCount(s) == 4 && AkkaCluster.Get(s).State.Unreachable.IsEmpty), "4 members Up everywhere");
        var isolated = _systems[3];
        var isolatedAddress = AkkaCluster.Get(isolated).SelfAddress;

        await SetLinks(isolated, Blackhole.Instance);
        await WaitUntil(() => _systems.Take(3).All(s => AkkaCluster.Get(s).State.Unreachable.Any(m => m.Address == isolatedAddress)),
            "the other three to mark the isolated node unreachable");
        await Task.Delay(TimeSpan.FromSeconds(30));

        Assert.False(isolated.WhenTerminated.IsCompleted, "the isolated node's ActorSystem was shut down");
        Assert.All(_systems.Take(3), s => Assert.Contains(AkkaCluster.Get(s).State.Members, m => m.Address == isolatedAddress));

        await SetLinks(isolated, Unthrottled.Instance);
        await WaitUntil(() => _systems.All(s => UpCount(s) == 4 && AkkaCluster.Get(s).State.Unreachable.IsEmpty),
            "all 4 Up and reachable after the heal");
        Assert.False(isolated.WhenTerminated.IsCompleted);
    }

    private static int UpCount(ActorSystem system) => AkkaCluster.Get(system).State.Members.Count(m => m.Status == MemberStatus.Up);

    private async Task SetLinks(ActorSystem isolated, ThrottleMode mode)
    {
        var transport = ((RemoteActorRefProvider)((ExtendedActorSystem)isolated).Provider).Transport;
        foreach (var peer in _systems.Where(s => s != isolated))
        {
            Assert.True(await transport.ManagementCommand(new SetThrottle(AkkaCluster.Get(peer).SelfAddress, ThrottleTransportAdapter.Direction.Both, mode)));
        }
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var started = DateTime.UtcNow;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow - started < Deadline, $"timed out after {Deadline.TotalSeconds} s waiting for {what}");
            await Task.Delay(100);
        }
    }
}
