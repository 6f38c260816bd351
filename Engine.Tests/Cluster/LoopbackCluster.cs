using Akka.Actor;
using Akka.Configuration;
using Xunit;
using AkkaCluster = Akka.Cluster.Cluster;
using MemberStatus = Akka.Cluster.MemberStatus;

namespace IdOS.Akka.Engine.Tests.Cluster;

/// <summary>
/// Four ActorSystems configured from the shipped hocon/node.conf (plus test-only overrides) on loopback ports the OS
/// picks, joined through the first two as seeds. Gossip runs faster than in production so that tests wait less.
/// </summary>
internal sealed class LoopbackCluster : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public LoopbackCluster(string overrides = "")
    {
        var config = ConfigurationFactory.ParseString(overrides)
            .WithFallback(ConfigurationFactory.ParseString("""
                akka.cluster.seed-node-timeout = 2s
                akka.cluster.gossip-interval = 200ms
                akka.cluster.leader-actions-interval = 200ms
                akka.loglevel = ERROR
                """))
            .WithFallback(ConfigurationFactory.ParseString(TestFiles.NodeConf));
        Systems = [.. Enumerable.Range(0, 4).Select(_ => ActorSystem.Create("idos", config))];
        var seeds = Systems.Take(2).Select(s => AkkaCluster.Get(s).SelfAddress).ToList();
        foreach (var system in Systems)
        {
            AkkaCluster.Get(system).JoinSeedNodes(seeds);
        }
    }

    public IReadOnlyList<ActorSystem> Systems { get; }

    public static Address AddressOf(ActorSystem system) => AkkaCluster.Get(system).SelfAddress;

    public static async Task WaitUntil(Func<bool> condition, string what)
    {
        var started = DateTime.UtcNow;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow - started < Deadline, $"timed out after {Deadline.TotalSeconds} s waiting for {what}");
            await Task.Delay(100);
        }
    }

    public bool AllUpAndReachable() => Systems.All(s =>
        AkkaCluster.Get(s).State.Members.Count(m => m.Status == MemberStatus.Up) == Systems.Count && AkkaCluster.Get(s).State.Unreachable.IsEmpty);

    public static bool SeesUnreachable(ActorSystem observer, Address address) =>
        AkkaCluster.Get(observer).State.Unreachable.Any(m => m.Address == address);

    public static bool HasMember(ActorSystem observer, Address address) =>
        AkkaCluster.Get(observer).State.Members.Any(m => m.Address == address);

    public async ValueTask DisposeAsync() => await Task.WhenAll(Systems.Select(s => s.Terminate()));
}
