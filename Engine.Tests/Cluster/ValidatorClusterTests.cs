using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Actors;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Network;
using Xunit;
using AkkaCluster = Akka.Cluster.Cluster;

namespace IdOS.Akka.Engine.Tests.Cluster;

/// <summary>
/// Four validator nodes, each its own ActorSystem in this process, joined through the seed nodes of their files over
/// loopback TCP: they agree on every committed block, and the peer directory keeps out anyone who has not proven
/// which validator it is.
/// </summary>
[Trait("Category", "Cluster")]
[Collection(SerialClusters.Name)]
public sealed class ValidatorClusterTests
{
    [Fact]
    public async Task Four_validators_commit_every_submitted_transaction_and_agree_on_every_block()
    {
        using var network = new TestNetwork(4);
        await using var nodes = new InProcessValidators(network, start: 4);

        var accepted = 0;
        for (var batch = 0; batch < 8; batch++)
        {
            var results = await nodes.Submit(batch % 4, 50);
            accepted += results.Results.Count(r => r.Status == MempoolAddStatus.Added);
        }

        Assert.Equal(400, accepted);
        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses();
            return (statuses.All(s => s.CommittedTransactions == 400), InProcessValidators.Describe(statuses));
        }, "all 4 validators to commit the 400 transactions");

        var height = (await nodes.Statuses()).Min(s => s.Height);
        // Every block's QC holds at least two other validators' signatures; the inbound verifiers check them before the
        // consensus actor does. Only this validator's own signatures older than the few it remembers would be left.
        Assert.All(await nodes.Statuses(), s => Assert.True(s.SignaturesVerifiedByConsensus < s.Height,
            $"validator {s.Validator} verified {s.SignaturesVerifiedByConsensus} signatures itself at height {s.Height}"));
        var reference = network.CommittedIds(0, height);
        Assert.Equal(height, reference.Count);
        for (var v = 1; v < 4; v++)
        {
            Assert.Equal(reference, network.CommittedIds(v, height));
        }
    }

    [Fact]
    public async Task The_execution_feed_reports_every_executed_transaction_and_moves_to_another_validator_when_its_own_stops()
    {
        using var network = new TestNetwork(4);
        await using var nodes = new InProcessValidators(network, start: 4);
        await using var client = Gateway.NodeClient.Create(network.Transport);
        var executed = new System.Collections.Concurrent.ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var validators = network.Ports.Select(port => Gateway.NodeClient.NodeAddress("127.0.0.1", port, network.Transport)).ToList();
        client.System.ActorOf(Gateway.ExecutionFeedActor.Props(validators, hashes =>
        {
            foreach (var hash in hashes)
            {
                executed.TryAdd(Convert.ToHexString(hash), 0);
            }
        }));

        async Task AllReported(SubmitResults submitted, string what)
        {
            Assert.All(submitted.Results, r => Assert.Equal(MempoolAddStatus.Added, r.Status));
            await Eventually.Holds(() =>
            {
                var missing = submitted.Results.Count(r => !executed.ContainsKey(Convert.ToHexString(r.Hash.ToArray())));
                return Task.FromResult((missing == 0, $"{missing} of {submitted.Results.Count} not reported"));
            }, what);
        }

        await AllReported(await nodes.Submit(1, 50), "the feed of validator 0 to report the first 50 transactions executed");
        await nodes.Stop(0);
        await AllReported(await nodes.Submit(1, 50), "another validator's feed to report the next 50 once validator 0 is gone");
    }

    [Fact]
    public async Task A_resubmitted_transaction_is_reported_as_a_duplicate_and_a_bad_one_is_rejected_with_a_reason()
    {
        using var network = new TestNetwork(4);
        await using var nodes = new InProcessValidators(network, start: 4);
        using var client = Engine.Crypto.Ed25519PrivateKey.GenerateExportable();
        var good = Engine.Application.OpaqueTransaction.CreateNumbered(client, 1, 100);
        var forged = (byte[])good.Clone();
        forged[^1] ^= 1;

        var first = await nodes.Node(0).Mempool.Ask<SubmitResults>(new SubmitTransactions([good, forged, new byte[10]]), TimeSpan.FromSeconds(10));
        var again = await nodes.Node(0).Mempool.Ask<SubmitResults>(new SubmitTransactions([good]), TimeSpan.FromSeconds(10));

        Assert.Equal(MempoolAddStatus.Added, first.Results[0].Status);
        Assert.Equal(MempoolAddStatus.Rejected, first.Results[1].Status);
        Assert.Contains("signature does not verify", first.Results[1].Reason, StringComparison.Ordinal);
        Assert.Equal(MempoolAddStatus.Rejected, first.Results[2].Status);
        Assert.Contains("10 bytes", first.Results[2].Reason, StringComparison.Ordinal);
        Assert.Equal(MempoolAddStatus.Duplicate, again.Results[0].Status);

        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses();
            return (statuses.All(s => s.CommittedTransactions == 1), InProcessValidators.Describe(statuses));
        }, "the one good transaction to be committed everywhere");
        var elsewhere = await nodes.Node(2).Mempool.Ask<SubmitResults>(new SubmitTransactions([good]), TimeSpan.FromSeconds(10));
        Assert.Equal(MempoolAddStatus.Duplicate, elsewhere.Results[0].Status);
        Assert.Contains("already committed", elsewhere.Results[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Messages_from_a_member_that_is_not_a_validator_and_votes_with_bad_signatures_are_dropped_and_counted()
    {
        using var network = new TestNetwork(4);
        await using var nodes = new InProcessValidators(network, start: 3);
        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses();
            return (statuses.All(s => s.Height >= 2), InProcessValidators.Describe(statuses));
        }, "three of four validators to commit without the fourth");

        // A pinned RPC member joins the cluster claiming the validator role, but holds no validator key.
        var outsiderConfig = ConfigurationFactory.ParseString($"""
            akka.remote.dot-netty.tcp.port = 0
            akka.cluster.roles = ["validator"]
            akka.cluster.seed-nodes = ["{AkkaCluster.Get(nodes.Node(0).System).SelfAddress}"]
            """).WithFallback(network.ConfigOf(0));
        using var outsider = network.Transport.CreateSystem(ValidatorNode.SystemName, outsiderConfig);
        var target = outsider.ActorSelection(new RootActorPath(AkkaCluster.Get(nodes.Node(0).System).SelfAddress) / "user" / PeerDirectory.Name);
        var vote = new Vote(network.Chain.GenesisBlock.Id, 1, 3, new byte[64]);
        var before = await Counters(nodes.Node(0));
        target.Tell(vote, outsider.ActorOf(Props.Empty));
        await Eventually.Holds(async () =>
        {
            var counters = await Counters(nodes.Node(0));
            return (counters.Dropped > before.Dropped, $"dropped {counters.Dropped}");
        }, "the outsider's vote to be dropped by the peer directory");

        // The same vote from a member that did prove it is validator 3 reaches consensus, which refuses the signature.
        using var key3 = KeyFiles.ReadPrivate(network.KeyFile(3));
        var impostor = outsider.ActorOf(Props.Create(() => new HelloSender()), PeerDirectory.Name);
        var outsiderAddress = AkkaCluster.Get(outsider).SelfAddress.ToString();
        target.Tell(PeerHello.Sign(network.Chain.ChainId, key3, outsiderAddress, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), impostor);
        await Eventually.Holds(async () =>
        {
            var round = (await nodes.Status(0)).Round;
            while (network.Chain.Validators.LeaderOf(round + 1) != 0)
            {
                round++;
            }

            target.Tell(vote with { Round = round }, impostor);
            var status = await nodes.Status(0);
            return (status.LastRejection.Contains("validator 3", StringComparison.Ordinal) && status.LastRejection.Contains("signature", StringComparison.Ordinal),
                $"last rejection: {status.LastRejection}");
        }, "consensus to reject validator 3's badly signed vote");
    }

    [Fact]
    public async Task A_flood_in_a_validators_name_is_cut_to_that_validators_budget_and_the_network_commits_on()
    {
        using var network = new TestNetwork(4, "idos.node.peer-limits { messages-per-second = 200, messages-burst = 400 }");
        await using var nodes = new InProcessValidators(network, start: 4);
        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses();
            return (statuses.All(s => s.Height >= 2 && s.PeersConnected == 3), InProcessValidators.Describe(statuses));
        }, "four validators to connect and commit");

        // A pinned member puts validator 2's path in the envelope (Akka does not authenticate it) and floods validator 0.
        using var member = network.Transport.CreateSystem(ValidatorNode.SystemName, ConfigurationFactory.ParseString("""
            akka.remote.dot-netty.tcp.port = 0
            akka.cluster.seed-nodes = []
            """).WithFallback(network.ConfigOf(0)));
        var impersonated = await member.ActorSelection(new RootActorPath(AkkaCluster.Get(nodes.Node(2).System).SelfAddress) / "user" / PeerDirectory.Name)
            .ResolveOne(TimeSpan.FromSeconds(10));
        var victim = member.ActorSelection(new RootActorPath(AkkaCluster.Get(nodes.Node(0).System).SelfAddress) / "user" / PeerDirectory.Name);
        var forged = new Vote(network.Chain.GenesisBlock.Id, 1, 2, new byte[64]);
        for (var i = 0; i < 5_000; i++)
        {
            victim.Tell(forged, impersonated);
        }

        await Eventually.Holds(async () =>
        {
            var counters = await Counters(nodes.Node(0));
            return (counters.OverLimit >= 4_000, $"over the limit: {counters.OverLimit}");
        }, "validator 0 to drop what is over validator 2's budget");
        var height = (await nodes.Status(0)).Height;
        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses();
            return (statuses.All(s => s.Height > height + 3), InProcessValidators.Describe(statuses));
        }, "the network to commit on, validator 2 included");
    }

    private static Task<PeerDirectory.Counters> Counters(ValidatorNode node) =>
        node.Directory.Ask<PeerDirectory.Counters>(PeerDirectory.CountersQuery.Instance, TimeSpan.FromSeconds(10));

    private sealed class HelloSender : ReceiveActor
    {
        public HelloSender() => ReceiveAny(_ => { });
    }
}
