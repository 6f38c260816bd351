using Akka.Actor;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// The round timer. The replica decides every duration (PacemakerPolicy); this actor only keeps the one timer that
/// is armed, on the ActorSystem's scheduler, so tests can drive it with a virtual-time scheduler.
/// </summary>
public sealed class PacemakerActor : ReceiveActor, IWithTimers
{
    public const string Name = "pacemaker";
    private const string TimerKey = "round";

    private IActorRef _owner = ActorRefs.Nobody;

    public PacemakerActor()
    {
        Receive<Arm>(arm =>
        {
            _owner = Sender;
            Timers.StartSingleTimer(TimerKey, new RoundTimerFired(arm.Round), TimeSpan.FromMilliseconds(Math.Max(0, arm.DelayMs)));
        });
        Receive<RoundTimerFired>(fired => _owner.Tell(fired));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Replaces whatever timer was armed before.</summary>
    public sealed record Arm(long Round, long DelayMs);

    public sealed record RoundTimerFired(long Round);
}
