using Akka.Actor;
using IdOS.Akka.Engine.Actors;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Gateway;

/// <summary>
/// The RPC system's subscription to one validator's executions (its commit feed's <see cref="SubscribeExecutions"/>),
/// passing each executed block's transaction hashes on, so that synchronous broadcasts learn of their results when
/// they exist instead of by polling. It follows one validator at a time and moves on to the next when that one
/// refuses, does not answer within the answer timeout, or goes away (remote death watch); a second later it subscribes
/// there. Notices from any feed but the followed one are ignored.
/// </summary>
public sealed class ExecutionFeedActor : ReceiveActor, IWithTimers
{
    public const string Name = "execution-feed";
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);

    private readonly IReadOnlyList<Address> _validators;
    private readonly Action<IReadOnlyList<byte[]>> _onExecuted;
    private int _index;
    private long _attempt;
    private IActorRef? _feed;

    public ExecutionFeedActor(IReadOnlyList<Address> validators, Action<IReadOnlyList<byte[]>> onExecuted)
    {
        ArgumentNullException.ThrowIfNull(validators);
        ArgumentOutOfRangeException.ThrowIfZero(validators.Count);
        _validators = validators;
        _onExecuted = onExecuted;
        Receive<Subscribe>(subscribe =>
        {
            if (subscribe.Attempt == _attempt)
            {
                Context.ActorSelection(new RootActorPath(_validators[_index]) / "user" / CommitFeedActor.Name).Tell(SubscribeExecutions.Instance, Self);
                Timers.StartSingleTimer(nameof(NoAnswer), new NoAnswer(_attempt), AnswerTimeout);
            }
        });
        Receive<CommitSubscription>(subscription =>
        {
            if (_feed is not null || Sender.Path.Address != _validators[_index])
            {
                return;
            }

            Timers.Cancel(nameof(NoAnswer));
            if (subscription.Accepted)
            {
                _feed = Sender;
                Context.Watch(_feed);
            }
            else
            {
                MoveOn();
            }
        });
        Receive<ExecutedBlock>(executed =>
        {
            if (Sender.Equals(_feed))
            {
                _onExecuted([.. executed.TransactionHashes.Select(h => h.ToArray())]);
            }
        });
        Receive<NoAnswer>(noAnswer =>
        {
            if (noAnswer.Attempt == _attempt && _feed is null)
            {
                MoveOn();
            }
        });
        Receive<Terminated>(terminated =>
        {
            if (terminated.ActorRef.Equals(_feed))
            {
                MoveOn();
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IReadOnlyList<Address> validators, Action<IReadOnlyList<byte[]>> onExecuted) =>
        global::Akka.Actor.Props.Create(() => new ExecutionFeedActor(validators, onExecuted));

    protected override void PreStart() => Self.Tell(new Subscribe(_attempt));

    private void MoveOn()
    {
        if (_feed is not null)
        {
            Context.Unwatch(_feed);
            _feed = null;
        }

        _index = (_index + 1) % _validators.Count;
        _attempt++;
        Timers.StartSingleTimer(nameof(Subscribe), new Subscribe(_attempt), RetryAfter);
    }

    private sealed record Subscribe(long Attempt);

    private sealed record NoAnswer(long Attempt);
}
