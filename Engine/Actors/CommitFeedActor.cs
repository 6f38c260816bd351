using Akka.Actor;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// Tells subscribers about every block this node commits (<see cref="SubscribeCommits"/>), or every block it
/// executes (<see cref="SubscribeExecutions"/>), with its transactions' hashes, so that a client learns of a commit or
/// a result when it happens instead of polling for it (the cluster benchmark's clients measure submit-to-commit
/// latency with commits; the RPC system's synchronous broadcasts wait on executions). Anyone who reaches the node may
/// subscribe, so each feed holds a bounded number and forgets a subscriber whose system terminates or becomes
/// unreachable long enough for remoting to quarantine it.
/// </summary>
public sealed class CommitFeedActor : ReceiveActor
{
    public const string Name = "commit-feed";
    public const int MaxSubscribers = 16;

    private readonly HashSet<IActorRef> _commitSubscribers = [];
    private readonly HashSet<IActorRef> _executionSubscribers = [];
    private long _height;
    private long _executedHeight;

    public CommitFeedActor(long height, long executedHeight)
    {
        _height = height;
        _executedHeight = executedHeight;
        Receive<SubscribeCommits>(_ => Subscribe(_commitSubscribers, Sender, _height));
        Receive<SubscribeExecutions>(_ => Subscribe(_executionSubscribers, Sender, _executedHeight));
        Receive<BlockCommittedNotice>(notice =>
        {
            _height = notice.Height;
            if (_commitSubscribers.Count > 0)
            {
                Tell(_commitSubscribers, new CommittedBlock(notice.Height, notice.ProposedAtUnixMs, notice.CommittedAtUnixUs, notice.TransactionHashes));
            }
        });
        Receive<BlockExecutedNotice>(notice =>
        {
            _executedHeight = notice.Height;
            if (_executionSubscribers.Count > 0)
            {
                Tell(_executionSubscribers, new ExecutedBlock(notice.Height, notice.TransactionHashes));
            }
        });
        Receive<Terminated>(terminated =>
        {
            _commitSubscribers.Remove(terminated.ActorRef);
            _executionSubscribers.Remove(terminated.ActorRef);
        });
    }

    public static Props Props(long height, long executedHeight) =>
        global::Akka.Actor.Props.Create(() => new CommitFeedActor(height, executedHeight)).WithMailbox(PeerDirectory.PeerMailbox);

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe(Self, typeof(BlockCommittedNotice));
        Context.System.EventStream.Subscribe(Self, typeof(BlockExecutedNotice));
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private static void Tell(HashSet<IActorRef> subscribers, NodeMessage message)
    {
        foreach (var subscriber in subscribers)
        {
            subscriber.Tell(message);
        }
    }

    private static void Subscribe(HashSet<IActorRef> subscribers, IActorRef subscriber, long height)
    {
        if (subscriber.IsNobody() || (!subscribers.Contains(subscriber) && subscribers.Count >= MaxSubscribers))
        {
            subscriber.Tell(new CommitSubscription(false, height, $"the feed already has its {MaxSubscribers} subscribers"));
            return;
        }

        if (subscribers.Add(subscriber))
        {
            Context.Watch(subscriber);
        }

        subscriber.Tell(new CommitSubscription(true, height, ""));
    }
}
