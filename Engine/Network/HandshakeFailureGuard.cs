using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;

namespace IdOS.Akka.Engine.Network;

/// <summary>
/// Keeps a system running when one of its outbound TLS handshakes fails. Akka.Remote (1.5.50 on) answers any failed
/// client-side handshake by running CoordinatedShutdown, which would stop a validator whenever a peer it dials is
/// killed mid-handshake, stalls until the connect timeout, presents a key genesis does not list, or sits behind a
/// proxy or load balancer that resets the connection while the peer is down: any one peer, or anyone a peer's hint
/// points to, could stop every validator that dials it. A failed handshake costs that connection and nothing more
/// here: a first shutdown phase fails when the reason is a handshake failure, and a failing phase whose recovery is
/// off ends CoordinatedShutdown before it reaches the rest. Akka then retries the peer as after any failed
/// connection. CoordinatedShutdown runs once per system, so the stops that follow go through <see cref="Stop"/>,
/// which ends a system that way directly.
/// </summary>
public static class HandshakeFailureGuard
{
    /// <summary>The shutdown phase that runs before every other, where the guard's task sits.</summary>
    public const string Phase = "idos-refuse-handshake-failure-stop";

    private const string HandshakeFailureReason = "Akka.Remote.Transport.DotNetty.TlsHandshakeFailureReason";

    /// <summary>
    /// The phase, first in the order and not recovered from, layered over a system's configuration. ActorSystem.Terminate
    /// (and so Dispose) ends the system directly rather than through CoordinatedShutdown, which a refusal leaves spent;
    /// the node's own stops run CoordinatedShutdown through <see cref="Stop"/>.
    /// </summary>
    public static Config Config { get; } = ConfigurationFactory.ParseString($$"""
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        akka.coordinated-shutdown.phases {
          {{Phase}} { timeout = 5s, recover = off }
          before-service-unbind.depends-on = [{{Phase}}]
        }
        """);

    /// <summary>Adds the guard's task; the system must have been made with <see cref="Config"/>.</summary>
    public static void Install(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        var shutdown = CoordinatedShutdown.Get(system);
        shutdown.AddTask(Phase, "refuse-stop-on-tls-handshake-failure", () =>
        {
            if (!IsHandshakeFailure(shutdown.ShutdownReason))
            {
                return Task.FromResult(Done.Instance);
            }

            system.Log.Warning("An outbound TLS handshake failed ({0}); Akka.Remote asks to stop the system on that, and it is refused: " +
                "the connection is dropped and the peer retried. This system's later stop ends it directly.", shutdown.ShutdownReason);
            return Task.FromException<Done>(new OperationCanceledException("a failed outbound TLS handshake does not stop this system"));
        });
    }

    /// <summary>Whether the guard has refused a shutdown on this system, which leaves CoordinatedShutdown spent.</summary>
    public static bool Refused(ActorSystem system) => IsHandshakeFailure(CoordinatedShutdown.Get(system).ShutdownReason);

    /// <summary>
    /// Stops the system by CoordinatedShutdown with <paramref name="reason"/>, or, when the guard has spent
    /// CoordinatedShutdown on a refused handshake failure, directly; returns once the system has terminated.
    /// </summary>
    public static async Task Stop(ActorSystem system, CoordinatedShutdown.Reason reason)
    {
        ArgumentNullException.ThrowIfNull(system);
        var shutdown = CoordinatedShutdown.Get(system);
        if (!Refused(system))
        {
            try
            {
                await shutdown.Run(reason);
            }
            catch (Exception) when (Refused(system))
            {
                // A handshake failed and was refused just before this stop: the run this call joined ended there.
            }
        }

        if (Refused(system))
        {
            ((ExtendedActorSystem)system).Abort();
        }

        await system.WhenTerminated;
    }

    private static bool IsHandshakeFailure(CoordinatedShutdown.Reason? reason) => reason?.GetType().FullName == HandshakeFailureReason;
}
