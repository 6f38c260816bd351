using Akka.Actor;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// Tells subscribers about every block this node commits, with its transactions' hashes, so that a client learns of
/// a commit when it happens instead of polling for it (the cluster benchmark's clients measure submit-to-commit
/// latency this way). Anyone who reaches the node may subscribe, so the feed holds a bounded number and forgets a
/// subscriber whose system terminates or becomes unreachable long enough for remoting to quarantine it.
/// </summary>
public sealed class CommitFeedActor : ReceiveActor
{
    public const string Name = "commit-feed";
    public const int MaxSubscribers = 16;

    private readonly HashSet<IActorRef> _subscribers = [];
    private long _height;

    public CommitFeedActor(long height)
    {
        _height = height;
        Receive<SubscribeCommits>(_ => Subscribe(Sender));
        Receive<BlockCommittedNotice>(notice =>
        {
            _height = notice.Height;
            if (_subscribers.Count == 0)
            {
                return;
            }

            var block = new CommittedBlock(notice.Height, notice.ProposedAtUnixMs, notice.CommittedAtUnixUs, notice.TransactionHashes);
            foreach (var subscriber in _subscribers)
            {
                subscriber.Tell(block);
            }
        });
        Receive<Terminated>(terminated => _subscribers.Remove(terminated.ActorRef));
    }

    public static Props Props(long height) =>
        global::Akka.Actor.Props.Create(() => new CommitFeedActor(height)).WithMailbox(PeerDirectory.PeerMailbox);

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(BlockCommittedNotice));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void Subscribe(IActorRef subscriber)
    {
        if (subscriber.IsNobody() || (!_subscribers.Contains(subscriber) && _subscribers.Count >= MaxSubscribers))
        {
            subscriber.Tell(new CommitSubscription(false, _height, $"the commit feed already has its {MaxSubscribers} subscribers"));
            return;
        }

        if (_subscribers.Add(subscriber))
        {
            Context.Watch(subscriber);
        }

        subscriber.Tell(new CommitSubscription(true, _height, ""));
    }
}
