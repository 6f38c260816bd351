using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Kwil.Reads;
using IdOS.Akka.Engine.Rpc.Services;

namespace IdOS.Akka.Engine.Rpc.Reads;

/// <summary>
/// How concurrent reads are coalesced. A batch leaves once it holds <see cref="MaxBatch"/> reads, or
/// <see cref="Window"/> after its first read (at once when the window is zero), and only while fewer than
/// <see cref="MaxInFlight"/> batches are out; reads that arrive meanwhile wait and go together in the next one. So a
/// lone read goes straight out, and under load the batch grows with the validator's round trip.
/// </summary>
public sealed record ReadBatchSettings(TimeSpan Window, int MaxBatch, int MaxInFlight)
{
    /// <summary>The most reads one message to a validator's query actor may carry.</summary>
    public const int Limit = 256;

    public static ReadBatchSettings Default { get; } = new(TimeSpan.Zero, 128, 2);

    /// <summary>Every read its own message, as if there were no batcher: the baseline the benchmark compares with.</summary>
    public static ReadBatchSettings Off { get; } = new(TimeSpan.Zero, 1, int.MaxValue);

    public static ReadBatchSettings FromConfig(Config config, string path)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!config.GetBoolean($"{path}.enabled", true))
        {
            return Off;
        }

        var settings = new ReadBatchSettings(config.GetTimeSpan($"{path}.window", Default.Window), config.GetInt($"{path}.max-batch", Default.MaxBatch),
            config.GetInt($"{path}.max-in-flight", Default.MaxInFlight));
        if (settings.Window < TimeSpan.Zero || settings.Window > TimeSpan.FromSeconds(1))
        {
            throw new ConfigurationException($"{path}.window is {settings.Window.TotalMilliseconds} ms; it must be between 0 and 1 s.");
        }

        if (settings.MaxBatch is < 1 or > Limit)
        {
            throw new ConfigurationException($"{path}.max-batch is {settings.MaxBatch}; it must be between 1 and {Limit}.");
        }

        return settings.MaxInFlight < 1
            ? throw new ConfigurationException($"{path}.max-in-flight is {settings.MaxInFlight}; at least one batch must be allowed out.")
            : settings;
    }
}

/// <summary>
/// The RPC system's read path: `user.call` views and `user.account` nonce lookups from all requests are coalesced by
/// one actor into batches, each sent as one message to a validator and answered from one state version there.
/// </summary>
public sealed class ReadBatcher
{
    public const string Name = "reads";

    private readonly IActorRef _actor;

    private ReadBatcher(IActorRef actor) => _actor = actor;

    /// <summary>Starts the batcher; <paramref name="batchSent"/> hears the size of every batch that goes out (metrics).</summary>
    public static ReadBatcher Start(IActorRefFactory system, INodeGateway gateway, ReadBatchSettings settings, string name = Name, Action<int>? batchSent = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        return new ReadBatcher(system.ActorOf(Props.Create(() => new ReadBatcherActor(gateway, settings, batchSent)), name));
    }

    public Task<ViewCallResult> View(ViewCallRequest request, CancellationToken cancel) => _actor.Ask<ViewCallResult>(request, cancel);

    /// <summary>The nonce the account's next transaction must carry, as executed transactions leave it (1 for a new account).</summary>
    public Task<long> NextNonce(byte[] identifier, string keyType, CancellationToken cancel) =>
        _actor.Ask<long>(new AccountKey(identifier, keyType), cancel);
}

internal sealed class ReadBatcherActor : ReceiveActor, IWithTimers
{
    private readonly INodeGateway _gateway;
    private readonly ReadBatchSettings _settings;
    private List<Waiting> _waiting = [];
    private bool _windowElapsed;
    private int _inFlight;

    private readonly Action<int>? _batchSent;

    public ReadBatcherActor(INodeGateway gateway, ReadBatchSettings settings, Action<int>? batchSent)
    {
        _gateway = gateway;
        _settings = settings;
        _batchSent = batchSent;
        Receive<ViewCallRequest>(Enqueue);
        Receive<AccountKey>(Enqueue);
        Receive<WindowElapsed>(_ =>
        {
            _windowElapsed = true;
            SendReady();
        });
        Receive<Answered>(answered =>
        {
            _inFlight--;
            Reply(answered.Reads, answered.Reply);
            SendReady();
        });
        Receive<Failed>(failed =>
        {
            _inFlight--;
            foreach (var read in failed.Reads)
            {
                read.ReplyTo.Tell(new Status.Failure(failed.Error));
            }

            SendReady();
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private void Enqueue(object read)
    {
        _waiting.Add(new Waiting(read, Sender));
        if (_waiting.Count == 1 && _settings.Window > TimeSpan.Zero)
        {
            _windowElapsed = false;
            Timers.StartSingleTimer(WindowElapsed.Instance, WindowElapsed.Instance, _settings.Window);
        }

        SendReady();
    }

    private void SendReady()
    {
        while (_waiting.Count > 0 && _inFlight < _settings.MaxInFlight
            && (_waiting.Count >= _settings.MaxBatch || _settings.Window == TimeSpan.Zero || _windowElapsed))
        {
            var reads = _waiting.Count <= _settings.MaxBatch ? _waiting : _waiting[.._settings.MaxBatch];
            _waiting = _waiting.Count <= _settings.MaxBatch ? [] : _waiting[_settings.MaxBatch..];
            _inFlight++;
            _batchSent?.Invoke(reads.Count);
            var batch = new ReadBatch([.. reads.Select(r => r.Read).OfType<ViewCallRequest>()], [.. reads.Select(r => r.Read).OfType<AccountKey>()]);
            _gateway.Read(batch, CancellationToken.None).PipeTo(Self, success: reply => new Answered(reads, reply),
                failure: e => new Failed(reads, e is AggregateException { InnerException: { } inner } ? inner : e));
        }

        if (_waiting.Count == 0)
        {
            _windowElapsed = false;
            Timers.Cancel(WindowElapsed.Instance);
        }
    }

    private static void Reply(List<Waiting> reads, ReadBatchReply reply)
    {
        var views = reads.Count(r => r.Read is ViewCallRequest);
        if (reply.Views.Count != views || reply.NextNonces.Count != reads.Count - views)
        {
            var error = new InvalidOperationException(
                $"the validator answered {reply.Views.Count} views and {reply.NextNonces.Count} nonces to a batch of {views} and {reads.Count - views}");
            reads.ForEach(r => r.ReplyTo.Tell(new Status.Failure(error)));
            return;
        }

        int view = 0, account = 0;
        foreach (var read in reads)
        {
            read.ReplyTo.Tell(read.Read is ViewCallRequest ? reply.Views[view++] : reply.NextNonces[account++]);
        }
    }

    private sealed record Waiting(object Read, IActorRef ReplyTo);

    private sealed record Answered(List<Waiting> Reads, ReadBatchReply Reply);

    private sealed record Failed(List<Waiting> Reads, Exception Error);

    private sealed class WindowElapsed
    {
        public static WindowElapsed Instance { get; } = new();
    }
}
