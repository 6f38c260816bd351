using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Actors;
using IdOS.Akka.Engine.Network;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Actors;

/// <summary>The actors peers' messages reach have a bounded mailbox that drops, rather than blocks, what finds it full.</summary>
[Trait("Category", "Unit")]
public sealed class PeerMailboxTests() : global::Akka.TestKit.Xunit2.TestKit(
    ConfigurationFactory.ParseString($"{PeerDirectory.PeerMailbox}.mailbox-capacity = 10").WithFallback(ConfigurationFactory.ParseString(TestFiles.NodeConf)))
{
    [Fact]
    public void Every_actor_peers_reach_uses_the_peer_mailbox()
    {
        var limits = Engine.Consensus.ConsensusLimits.Default;
        Props[] props =
        [
            PeerDirectory.Props(null!),
            MempoolActor.Props(new MempoolSetup((_, _) => default, (_, _) => { }, ActorRefs.Nobody, 10, 1_000, 100, 10)),
            QueryActor.Props(null!, "", null!, QueryAccess.Open, null!),
            SyncActor.Props(null!, limits, PeerLimits.Default, () => 0, ActorRefs.Nobody, ActorRefs.Nobody, new SyncCounters()),
            CommitFeedActor.Props(0, 0),
        ];

        Assert.All(props, p => Assert.Equal(PeerDirectory.PeerMailbox, p.Mailbox));
    }

    [Fact]
    public void A_full_peer_mailbox_drops_the_rest_without_blocking_the_sender()
    {
        using var gate = new ManualResetEventSlim();
        var busy = Sys.ActorOf(Props.Create(() => new Blocked(gate)).WithMailbox(PeerDirectory.PeerMailbox));
        busy.Tell(0);
        AwaitCondition(() => Blocked.Started);

        var sent = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 1; i <= 100; i++)
        {
            busy.Tell(i);
        }

        Assert.True(sent.Elapsed < TimeSpan.FromSeconds(5), $"sending took {sent.Elapsed}");
        gate.Set();
        AwaitCondition(() => Blocked.Handled >= 2);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.InRange(Blocked.Handled, 2, 11);
    }

    private sealed class Blocked : ReceiveActor
    {
        private static int _handled;

        public Blocked(ManualResetEventSlim gate) => Receive<int>(_ =>
        {
            Started = true;
            gate.Wait(TimeSpan.FromSeconds(10));
            Interlocked.Increment(ref _handled);
        });

        public static bool Started { get; private set; }

        public static int Handled => Volatile.Read(ref _handled);
    }
}
