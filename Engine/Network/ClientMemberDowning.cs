using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using AkkaCluster = Akka.Cluster.Cluster;

namespace IdOS.Akka.Engine.Network;

/// <summary>
/// Takes crashed clients out of the cluster. Validators are never downed (a partitioned validator simply reconnects),
/// but a member without the validator role — an RPC system — that stays unreachable would hold back cluster
/// convergence forever, and with it the admission of restarted validators. Such a member is downed after a grace
/// period; a restarted RPC system joins again as a new member.
/// </summary>
public sealed class ClientMemberDowning : ReceiveActor, IWithTimers
{
    public const string Name = "client-downing";

    private readonly AkkaCluster _cluster = AkkaCluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ClientMemberDowning(TimeSpan grace)
    {
        Receive<ClusterEvent.UnreachableMember>(unreachable =>
        {
            if (!unreachable.Member.HasRole("validator"))
            {
                Timers.StartSingleTimer(unreachable.Member.Address, new GraceOver(unreachable.Member), grace);
            }
        });
        Receive<ClusterEvent.ReachableMember>(reachable => Timers.Cancel(reachable.Member.Address));
        Receive<ClusterEvent.MemberRemoved>(removed => Timers.Cancel(removed.Member.Address));
        Receive<GraceOver>(over =>
        {
            if (_cluster.State.Unreachable.Contains(over.Member))
            {
                _log.Warning("Downing {0} (roles {1}): unreachable for {2} s, and it is not a validator.", over.Member.Address,
                    string.Join(",", over.Member.Roles), grace.TotalSeconds);
                _cluster.Down(over.Member.Address);
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TimeSpan grace) => global::Akka.Actor.Props.Create(() => new ClientMemberDowning(grace));

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.ReachableMember), typeof(ClusterEvent.MemberRemoved));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private sealed record GraceOver(Member Member);
}
