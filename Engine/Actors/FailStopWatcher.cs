using Akka.Actor;
using Akka.Event;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// A validator is fail-stop: if any of its actors stops (the guardian stops, never restarts, a failed top-level actor;
/// the consensus actor stops itself when the journal fails), the whole node shuts down rather than run on with a
/// part missing or with in-memory state that no longer matches its storage. A restart resumes from storage.
/// </summary>
public sealed class FailStopWatcher : ReceiveActor
{
    public FailStopWatcher(IReadOnlyList<IActorRef> watched)
    {
        ArgumentNullException.ThrowIfNull(watched);
        foreach (var actor in watched)
        {
            Context.Watch(actor);
        }

        Receive<Terminated>(terminated =>
        {
            var shutdown = CoordinatedShutdown.Get(Context.System);
            if (shutdown.ShutdownReason is not null && !HandshakeFailureGuard.Refused(Context.System))
            {
                return;
            }

            var log = Context.GetLogger();
            log.Error("{0} stopped; shutting this validator down. Restart it to resume from its storage.", terminated.ActorRef.Path);
            _ = HandshakeFailureGuard.Stop(Context.System, FailStopReason.Instance);
        });
    }

    public static Props Props(IReadOnlyList<IActorRef> watched) => global::Akka.Actor.Props.Create(() => new FailStopWatcher(watched));

    public sealed class FailStopReason : CoordinatedShutdown.Reason
    {
        public static FailStopReason Instance { get; } = new();

        private FailStopReason()
        {
        }

        public override int ExitCode => 1;
    }
}
