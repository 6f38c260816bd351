using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Network;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Network;

/// <summary>
/// A system on the pinned TLS transport dials a peer that resets the connection mid-handshake, as a peer killed while
/// connecting or a proxy in front of a stopped peer does. Akka.Remote asks CoordinatedShutdown to stop the system on
/// that; the system must refuse, keep answering, retry the peer, and still stop when asked.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class HandshakeFailureGuardTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_peer_that_resets_the_TLS_handshake_costs_the_connection_and_not_the_system()
    {
        using var own = new TempCertificate("own");
        using var peer = new TempCertificate("peer");
        var pin = TlsPin.Of(peer.Certificate);
        var security = TransportSecurity.PinnedTls(own.Certificate, new Dictionary<TlsPin, string> { [pin] = "peer" }, [pin]);
        using var system = security.CreateSystem("idos", ConfigurationFactory.ParseString("""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp.hostname = "127.0.0.1"
            akka.remote.dot-netty.tcp.port = 0
            akka.remote.retry-gate-closed-for = 200ms
            akka.loglevel = ERROR
            akka.log-dead-letters = off
            """).WithFallback(NodeConfig.Defaults));
        var echo = system.ActorOf(Props.Create(() => new Echo()), "echo");

        using var resetter = new TcpListener(IPAddress.Loopback, 0);
        resetter.Start();
        var port = ((IPEndPoint)resetter.LocalEndpoint).Port;
        var peerAddress = new Address(security.Protocol(Config.Empty), "idos", "127.0.0.1", port);

        for (var connection = 0; connection < 2; connection++)
        {
            // Akka gates a peer for a moment after a failed connection and drops what is sent meanwhile: send until it dials.
            var accepting = resetter.AcceptSocketAsync();
            var dialing = System.Diagnostics.Stopwatch.StartNew();
            while (!accepting.IsCompleted)
            {
                Assert.True(dialing.Elapsed < Wait, $"connection {connection + 1}: the system did not dial the peer within {Wait.TotalSeconds} s");
                system.ActorSelection(new RootActorPath(peerAddress) / "user" / "anyone").Tell("hello");
                await Task.WhenAny(accepting, Task.Delay(100));
            }

            using var accepted = await accepting;
            // The reset comes once the client's hello is in, so that it lands inside the TLS handshake.
            var hello = new byte[512];
            Assert.True(await accepted.ReceiveAsync(hello, SocketFlags.None).WaitAsync(Wait) > 0, "the system sent no TLS hello");
            accepted.LingerState = new LingerOption(true, 0);
            accepted.Close();
            if (connection == 0)
            {
                await Cluster.Eventually.Holds(() => Task.FromResult((HandshakeFailureGuard.Refused(system), "")), "Akka to ask for a stop on the reset handshake", Wait);
                // That run ends, faulted, at the guard's phase; any phase after it would stop the system.
                var run = CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.UnknownReason.Instance);
                await Task.WhenAny(run, Task.Delay(Wait));
                Assert.True(run.IsFaulted, $"the shutdown Akka started is {run.Status}, not ended at the guard's phase");
            }
        }

        Assert.False(system.WhenTerminated.IsCompleted, "the system stopped after a peer reset its TLS handshake");
        Assert.Equal("still here", await echo.Ask<string>("still here", Wait));

        await HandshakeFailureGuard.Stop(system, CoordinatedShutdown.ActorSystemTerminateReason.Instance).WaitAsync(Wait);
        Assert.True(system.WhenTerminated.IsCompleted);
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo() => Receive<string>(text => Sender.Tell(text));
    }
}
