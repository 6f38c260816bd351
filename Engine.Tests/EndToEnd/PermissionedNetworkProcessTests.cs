using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Actors;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Gateway;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Tests.Cluster;
using IdOS.Akka.Engine.Tests.Network;
using Xunit;
using AkkaCluster = Akka.Cluster.Cluster;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// Four validator processes and an RPC system on mutual TLS, from the keys, certificates and genesis the `keygen` and
/// `genesis` commands write, and processes that should get nothing from them: a plain Akka.Remote system, one with
/// TLS and a certificate of its own, and a pinned member that misbehaves (it is answered reads only after its signed
/// hello, cannot speak for the cluster, and costs a validator no more than the per-peer budgets). The attacks that a
/// network without TLS lets through are first shown to work on one that runs insecure, without Akka's untrusted mode
/// and with Akka's own serializers, so that each check below can fail.
/// </summary>
[Trait("Category", "Process")]
[Collection(SerialClusters.Name)]
public sealed class PermissionedNetworkProcessTests
{
    private static readonly TimeSpan NoAnswer = TimeSpan.FromSeconds(3);
    private const long SyncBytesPerSecond = 64 << 10;
    private const long SyncBytesBurst = 128 << 10;

    [Fact]
    public async Task On_an_insecure_network_an_outsider_is_answered_joins_downs_a_validator_and_stops_another()
    {
        using var network = new TestNetwork(4, """
            idos.node.insecure = on
            akka.remote.untrusted-mode = off
            akka.actor.serializers.akka-misc = "Akka.Remote.Serialization.MiscMessageSerializer, Akka.Remote"
            akka.actor.serializers.akka-system-msg = "Akka.Remote.Serialization.SystemMessageSerializer, Akka.Remote"
            """);
        await using var nodes = new NodeProcesses(network);
        await IdosNetworkProcessTests.StartAll(nodes);
        using var outsider = Outsider(TransportSecurity.Insecure);
        var target = nodes.Addresses[0];

        Assert.NotNull(await Identify(outsider, target));
        var stranger = AkkaCluster.Get(outsider);
        stranger.Join(target);
        await Eventually.Holds(() => Task.FromResult((stranger.State.Members.Count(m => m.Status == global::Akka.Cluster.MemberStatus.Up) >= 2,
            string.Join(", ", stranger.State.Members))), "the outsider to become a member of the validators' cluster");

        DownThrough(outsider, target, nodes.Addresses[1]);
        await nodes.WaitForExit(1, TimeSpan.FromSeconds(60));

        Select(outsider, target, ConsensusActor.Name).Tell(PoisonPill.Instance);
        await nodes.WaitForExit(0, TimeSpan.FromSeconds(60));
        Assert.Contains("/user/consensus stopped; shutting this validator down", nodes.FullLog(0), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_pinned_parties_reach_a_validator_and_a_pinned_member_cannot_stop_it_or_forge_a_vote()
    {
        // Small block-serving budgets, so that requests in a loop spend them within the test.
        using var network = new TestNetwork(4, $"idos.node.peer-limits {{ sync-bytes-per-second = {SyncBytesPerSecond}, sync-bytes-burst = {SyncBytesBurst} }}",
            application: "idos", beforePrepare: KeysFromTheCommandLine);
        Assert.True(network.Transport.IsTls);
        await using var nodes = new NodeProcesses(network);
        await using var rpc = await RpcProcessTests.StartWithRpc(nodes);
        var target = nodes.Addresses[0];

        // (a) A plain Akka.Remote system and (b) one with TLS and a certificate nobody listed: the handshake fails, so no
        // message of theirs is read, whether a lookup, a read naming a user, a PoisonPill or a request to join.
        using var ownCertificate = new TempCertificate();
        foreach (var security in new[] { TransportSecurity.Insecure, TransportSecurity.PinnedTls(ownCertificate.Certificate, network.Transport.Accepted, network.Transport.ValidatorPins) })
        {
            using var outsider = Outsider(security);
            var dialed = security.Dialed(target, outsider.Settings.Config);
            Assert.Null(await Identify(outsider, dialed));
            await Assert.ThrowsAsync<AskTimeoutException>(() => Select(outsider, dialed, QueryActor.Name)
                .Ask<ReadBatchAnswer>(new ReadBatchQuery([], [new AccountRef(new byte[20], "secp256k1")], 0), NoAnswer));
            Select(outsider, dialed, ConsensusActor.Name).Tell(PoisonPill.Instance);
            AkkaCluster.Get(outsider).Join(dialed);
            await Task.Delay(NoAnswer);
            Assert.DoesNotContain(AkkaCluster.Get(outsider).State.Members, m => m.Address != AkkaCluster.Get(outsider).SelfAddress);
        }

        Assert.True(nodes.IsRunning(0), nodes.Log(0));
        Assert.Contains("Refused a TLS peer", nodes.FullLog(0), StringComparison.Ordinal);

        // (c) A member the operators pinned, misbehaving: it cannot join the validators' cluster, nor mark a validator
        // down through any validator (its connection's frames for the cluster's daemons are dropped by pin), ...
        using (var downer = Outsider(network.Transport))
        {
            // Associated first, by a lookup it may make: on a loaded machine the TLS handshake alone can outlast a fixed
            // wait, and a member whose frames never left would prove nothing about the guard.
            Assert.NotNull(await Identify(downer, target, TimeSpan.FromSeconds(15)));
            var cluster = AkkaCluster.Get(downer);
            cluster.Join(target);
            foreach (var through in nodes.Addresses)
            {
                DownThrough(downer, through, nodes.Addresses[1]);
            }

            // The node logs the drop asynchronously: its line may reach the file a while after the frames.
            await Eventually.Holds(() => Task.FromResult((nodes.FullLog(0).Contains("the cluster is the validators'", StringComparison.Ordinal), "")),
                "validator 0 to log the member's cluster frames it dropped");
            await Task.Delay(NoAnswer);
            Assert.DoesNotContain(cluster.State.Members, m => m.Address != cluster.SelfAddress);
        }

        // ... it reaches the node, but cannot stop its actors (a refused
        // system message may cost the member its own association, so the forgeries below come from a second one), and
        // votes it sends in a validator's name (with that validator's path as the sender) fail their signatures
        // without costing the consensus actor a check each.
        using (var stopper = Outsider(network.Transport))
        {
            var consensus = await Identify(stopper, target, TimeSpan.FromSeconds(15)) ?? throw new InvalidOperationException("a pinned member got no answer from /user/consensus");
            consensus.Tell(PoisonPill.Instance);
            consensus.Tell(Kill.Instance);
            Select(stopper, target, ConsensusActor.Name).Tell(PoisonPill.Instance);
            Select(stopper, target, ConsensusActor.Name).Tell(Kill.Instance);
            ((IInternalActorRef)consensus).Suspend();
            ((IInternalActorRef)consensus).Stop();
            await Task.Delay(NoAnswer);
        }

        using var member = Outsider(network.Transport);
        var read = new ReadBatchQuery([], [new AccountRef(new byte[20], "secp256k1")], 0);
        Assert.False(Assert.IsType<QueryAccessAnswer>(await Select(member, target, QueryActor.Name).Ask<object>(read, TimeSpan.FromSeconds(10))).Allowed);
        var proven = await NodeClient.On(member, network.Transport).Read(target, read, TimeSpan.FromSeconds(10));

        Assert.Single(proven.NextNonces);

        var impersonated = await member.ActorSelection(new RootActorPath(nodes.Addresses[2]) / "user" / PeerDirectory.Name)
            .ResolveOne(TimeSpan.FromSeconds(5));
        var victim = Select(member, target, PeerDirectory.Name);
        Assert.True(nodes.IsRunning(0), nodes.Log(0));
        var before = await nodes.Status(0) ?? throw new InvalidOperationException($"validator 0 did not answer: {nodes.Log(0)}");
        // Far enough ahead that the votes are still neither stale nor too far ahead (1,000 rounds) when they arrive, so
        // that each one reaches the signature check (the chain moves a few hundred rounds a second at most while idle).
        var round = before.Round + 900;
        while (network.Chain.Validators.LeaderOf(round + 1) != 0)
        {
            round++;
        }

        const int forgeries = 10_000;
        var forged = new Vote(before.LastBlockId, round, 2, new byte[Ed25519PrivateKey.SignatureSize]);
        for (var i = 0; i < forgeries; i++)
        {
            victim.Tell(forged, impersonated);
        }

        NodeStatus? after = null;
        await Eventually.Holds(async () =>
        {
            after = await nodes.Status(0);
            return (after is not null && after.RejectedMessages - before.RejectedMessages >= forgeries,
                $"rejected {after?.RejectedMessages - before.RejectedMessages} of {forgeries}; last: {after?.LastRejection}");
        }, "validator 0 to reject every forged vote");
        Assert.True(after!.Round <= round + 1,
            $"round {after.Round} passed the forged votes' round {round} before they all arrived: they were refused as stale, not by their signatures");

        Assert.True(after!.SignaturesVerifiedByConsensus - before.SignaturesVerifiedByConsensus < 100,
            $"the consensus actor verified {after.SignaturesVerifiedByConsensus - before.SignaturesVerifiedByConsensus} signatures during {forgeries} forged votes");

        // Block requests in a loop in validator 3's name: validator 0 answers validator 3 (never the member), and no
        // more than validator 3's byte budget allows however many are asked.
        var asker = await member.ActorSelection(new RootActorPath(nodes.Addresses[3]) / "user" / PeerDirectory.Name).ResolveOne(TimeSpan.FromSeconds(5));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        const int requests = 2_000;
        for (var i = 0; i < requests; i++)
        {
            victim.Tell(new BlockRequest(after.LastBlockId, 0, 64), asker);
        }

        await Eventually.Holds(async () =>
        {
            after = await nodes.Status(0);
            return (after is not null && after.BlockRequestsOverLimit - before.BlockRequestsOverLimit > requests / 2,
                $"{after?.BlockRequestsOverLimit - before.BlockRequestsOverLimit} of {requests} requests dropped over the budget");
        }, "validator 0 to drop the block requests over validator 3's budget");
        var served = after!.BlockBytesServed - before.BlockBytesServed;
        var allowed = SyncBytesBurst + (SyncBytesPerSecond * (clock.Elapsed.TotalSeconds + 1));
        Assert.True(served > 0 && served <= allowed, $"validator 0 sent {served} bytes of blocks; the budget allowed {allowed:F0}");
        var height = after.Height;
        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses([0, 1, 2, 3]);
            return (statuses.All(s => s is not null && s.Height > height + 5 && s.PeersConnected == 3), NodeProcesses.Describe(statuses));
        }, "all four validators to keep committing after the attacks");
        Assert.All(Enumerable.Range(0, 4), v => Assert.True(nodes.IsRunning(v), nodes.Log(v)));

        // The RPC system, a listed member too, reads through its own greeting all along.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var account = await RpcProcessTests.Call(http, rpc.Endpoint, "user.account", new System.Text.Json.Nodes.JsonObject
        {
            ["id"] = new System.Text.Json.Nodes.JsonObject { ["identifier"] = new string('0', 40), ["key_type"] = "secp256k1" },
        });
        Assert.True(account["result"]?["nonce"] is not null, account.ToJsonString());
    }

    /// <summary>The validators' keys and certificates, the RPC member's certificate and genesis, as an operator makes them.</summary>
    private static void KeysFromTheCommandLine(TestNetwork network)
    {
        var publicKeys = new List<string>();
        for (var v = 0; v < network.ConfigPaths.Count; v++)
        {
            Cli(["keygen", "--out", network.KeyFile(v)]);
            publicKeys.Add(network.KeyFile(v) + ".pub");
        }

        Cli(["keygen", "--rpc", "--out", network.RpcCertificate]);
        Cli(["keygen", "--out", network.OwnerKey]);
        Cli(["genesis", "--validators", string.Join(",", publicKeys), "--out", Path.Combine(network.Root, "genesis.json"), "--chain-id", "idos-akka-test",
            "--db-owner", KeyFiles.ReadPublic(network.OwnerKey).ToString()]);
    }

    private static void Cli(IReadOnlyList<string> args)
    {
        var info = new System.Diagnostics.ProcessStartInfo(NodeProcesses.Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(info) ?? throw new InvalidOperationException("could not start the node executable");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{string.Join(' ', args)}: {output.Result}{errors}");
    }

    private static ActorSystem Outsider(TransportSecurity security) => security.CreateSystem(ValidatorNode.SystemName, ConfigurationFactory.ParseString("""
        akka.remote.dot-netty.tcp.port = 0
        akka.cluster.seed-nodes = []
        akka.cluster.roles = ["validator"]
        akka.loglevel = OFF
        akka.log-dead-letters = off
        """).WithFallback(ConfigurationFactory.ParseString(TestNetwork.FastGossip)).WithFallback(NodeConfig.Defaults));

    /// <summary>
    /// Asks <paramref name="through"/>'s cluster daemon to mark <paramref name="victim"/> down, as `Cluster.Down` does
    /// on the node itself; the message type is Akka's internal one, which a peer can send all the same.
    /// </summary>
    private static void DownThrough(ActorSystem from, Address through, Address victim)
    {
        var down = Type.GetType("Akka.Cluster.ClusterUserAction+Down, Akka.Cluster", throwOnError: true)!;
        from.ActorSelection(new RootActorPath(through) / "system" / "cluster" / "core" / "daemon").Tell(Activator.CreateInstance(down, victim));
    }

    private static ActorSelection Select(ActorSystem from, Address node, string actor) => from.ActorSelection(new RootActorPath(node) / "user" / actor);

    /// <summary>The node's consensus actor as an Identify finds it; null when nothing answers within <paramref name="wait"/> (default <see cref="NoAnswer"/>).</summary>
    private static async Task<IActorRef?> Identify(ActorSystem from, Address node, TimeSpan? wait = null)
    {
        try
        {
            return (await Select(from, node, ConsensusActor.Name).Ask<ActorIdentity>(new Identify(1), wait ?? NoAnswer)).Subject;
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }
}
