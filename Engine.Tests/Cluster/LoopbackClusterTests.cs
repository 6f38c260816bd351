using Akka.Actor;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Tests.Consensus;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Cluster;

/// <summary>
/// Four ActorSystems configured from the shipped hocon/node.conf join one cluster over loopback TCP, with Akka's
/// JSON serializer refused and downing off, and consensus messages cross between them through our codec.
/// </summary>
[Trait("Category", "Cluster")]
[Collection(SerialClusters.Name)]
public sealed class LoopbackClusterTests
{
    private readonly TestChain _t = new();

    [Fact]
    public async Task Four_nodes_form_a_cluster_and_a_vote_crosses_tcp_byte_for_byte()
    {
        // Untrusted mode lets remote lookups reach only the listed paths; the test's echo actor is one more.
        var trusted = global::Akka.Configuration.ConfigurationFactory.ParseString(TestFiles.NodeConf).GetStringList("akka.remote.trusted-selection-paths");
        await using var cluster = new LoopbackCluster(
            $"akka.remote.trusted-selection-paths = [{string.Join(", ", trusted.Append("/user/echo").Select(p => $"\"{p}\""))}]");
        await LoopbackCluster.WaitUntil(cluster.AllUpAndReachable, "all 4 nodes to see 4 members Up");
        cluster.Systems[3].ActorOf(Props.Create<Echo>(), "echo");
        var vote = _t.Vote(2, _t.Chain.GenesisBlock.Id, 7);
        var remote = cluster.Systems[0].ActorSelection(new RootActorPath(LoopbackCluster.AddressOf(cluster.Systems[3])) / "user" / "echo");

        var echoed = await remote.Ask<Vote>(vote, TimeSpan.FromSeconds(10));

        Assert.NotSame(vote, echoed);
        Assert.Equal(ConsensusCodec.Encode(vote), ConsensusCodec.Encode(echoed));
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo() => Receive<Vote>(vote => Sender.Tell(vote));
    }
}
