using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Tests.Consensus;
using Xunit;
using AkkaCluster = Akka.Cluster.Cluster;
using MemberStatus = Akka.Cluster.MemberStatus;

namespace IdOS.Akka.Engine.Tests.Cluster;

/// <summary>
/// Four ActorSystems configured from the shipped hocon/node.conf join one cluster over loopback TCP, with Akka's
/// JSON serializer refused and downing off, and consensus messages cross between them through our codec.
/// </summary>
[Trait("Category", "Cluster")]
[Collection(SerialClusters.Name)]
public sealed class LoopbackClusterTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly List<ActorSystem> _systems = [];
    private readonly TestChain _t = new();

    public Task InitializeAsync()
    {
        var config = ConfigurationFactory.ParseString("""
            akka.cluster.seed-node-timeout = 2s
            akka.cluster.gossip-interval = 200ms
            akka.cluster.leader-actions-interval = 200ms
            akka.loglevel = WARNING
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
    public async Task Four_nodes_form_a_cluster_and_a_vote_crosses_tcp_byte_for_byte()
    {
        await WaitUntil(() => _systems.All(s => AkkaCluster.Get(s).State.Members.Count(m => m.Status == MemberStatus.Up) == 4),
            "all 4 nodes to see 4 members Up");
        _systems[3].ActorOf(Props.Create<Echo>(), "echo");
        var vote = _t.Vote(2, _t.Chain.GenesisBlock.Id, 7);
        var remote = _systems[0].ActorSelection(new RootActorPath(AkkaCluster.Get(_systems[3]).SelfAddress) / "user" / "echo");

        var echoed = await remote.Ask<Vote>(vote, TimeSpan.FromSeconds(10));

        Assert.NotSame(vote, echoed);
        Assert.Equal(ConsensusCodec.Encode(vote), ConsensusCodec.Encode(echoed));
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

    private sealed class Echo : ReceiveActor
    {
        public Echo() => Receive<Vote>(vote => Sender.Tell(vote));
    }
}
