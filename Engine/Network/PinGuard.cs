using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Event;
using Akka.Remote.Transport;
using Google.Protobuf;

namespace IdOS.Akka.Engine.Network;

/// <summary>
/// Judges Akka.Remote traffic by the TLS pin of the connection it arrived on, which no peer can forge, rather than by
/// anything the peer wrote. A validator's connection carries everything (consensus messages prove themselves by their
/// signatures, and the cluster is the validators'). A connection with any other listed pin (an RPC member) may not
/// speak for the cluster or for a validator: frames for Akka's cluster daemons are dropped, as are selections that
/// climb or match by pattern and paths with percent escapes, and a handshake that claims a validator's address closes
/// the connection. Cluster messages name their sender in their own fields (a gossip's `from`, a join's node, a
/// `Down`'s address), so without this a pinned RPC member could mark a validator down or replace it as a member.
/// </summary>
public sealed class PinGuard
{
    private const int LoggedDrops = 10;
    private const int MaxLearnedOrigins = 1_024;
    private readonly TransportSecurity _security;
    private readonly HashSet<(string Host, int Port)> _validatorEndpoints;
    private readonly ConcurrentDictionary<(string Host, int Port), bool> _learnedValidatorEndpoints = new();
    private readonly ConcurrentDictionary<Address, int> _droppedByOrigin = new();
    private readonly ILoggingAdapter _log;
    private readonly int _selectionSerializerId;
    private long _dropped;

    internal PinGuard(TransportSecurity security, IEnumerable<Address> validators, int selectionSerializerId, ILoggingAdapter log)
    {
        _security = security;
        _validatorEndpoints = [.. validators.Where(a => a.Host is not null && a.Port is not null).Select(a => Endpoint(a.Host!, a.Port!.Value))];
        _selectionSerializerId = selectionSerializerId;
        _log = log;
    }

    /// <summary>Frames dropped and connections closed for what a non-validator tried.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public static bool IsClusterPath(string target) =>
        target.Equals("/system/cluster", StringComparison.Ordinal) || target.StartsWith("/system/cluster/", StringComparison.Ordinal);

    /// <summary>What to do with one inbound frame on a connection whose peer proved <paramref name="pin"/> (null: no pin on record).</summary>
    internal Decision Judge(TlsPin? pin, ReadOnlySpan<byte> frame, Address remote)
    {
        if (pin is null)
        {
            return Refuse(remote, "no TLS pin is on record for this connection");
        }

        if (!_security.IsAccepted(pin.Value))
        {
            return Refuse(remote, $"its pin {pin.Value} belonged to a validator the validator set no longer holds");
        }

        if (_security.IsValidatorPin(pin.Value))
        {
            if (!AkkaFrame.IsPayloadOnly(frame) && AkkaFrame.Read(frame, _selectionSerializerId) is { Kind: AkkaFrameKind.Associate, Origin: { } origin }
                && _learnedValidatorEndpoints.Count < MaxLearnedOrigins)
            {
                _learnedValidatorEndpoints.TryAdd(Endpoint(origin.Host, origin.Port), true);
            }

            return Decision.Pass;
        }

        var read = AkkaFrame.Read(frame, _selectionSerializerId);
        return read.Kind switch
        {
            AkkaFrameKind.Associate when read.Origin is { } o && IsValidatorEndpoint(o.Host, o.Port) =>
                Refuse(remote, $"it claims the address {o.Host}:{o.Port} of a validator"),
            AkkaFrameKind.Message when read.UnusualPath => Drop(remote, $"a message for {read.Target} by a path that climbs, matches by pattern or escapes"),
            AkkaFrameKind.Message when IsClusterPath(read.Target!) => Drop(remote, $"a message for {read.Target}; the cluster is the validators'"),
            AkkaFrameKind.Unreadable => Drop(remote, "a frame that does not read as Akka's protocol"),
            _ => Decision.Pass,
        };
    }

    /// <summary>The listening address an association handshake names; null for any other frame.</summary>
    internal (string Host, int Port)? OriginOf(ReadOnlySpan<byte> frame) =>
        !AkkaFrame.IsPayloadOnly(frame) && AkkaFrame.Read(frame, _selectionSerializerId) is { Kind: AkkaFrameKind.Associate, Origin: { } origin } ? origin : null;

    private bool IsValidatorEndpoint(string host, int port)
    {
        var endpoint = Endpoint(host, port);
        return _validatorEndpoints.Contains(endpoint) || _learnedValidatorEndpoints.ContainsKey(endpoint);
    }

    private Decision Drop(Address remote, string what)
    {
        Count(remote, $"Dropped {what}");
        return Decision.Drop;
    }

    private Decision Refuse(Address remote, string why)
    {
        Count(remote, $"Closed the connection: {why}");
        return Decision.Close;
    }

    /// <summary>
    /// Counts a refusal and logs the first few from each origin (then every thousandth): one member's repeated
    /// attempts, a retrying heartbeat say, must not use up the log lines another member's refusals need. Origins
    /// past the bound are counted together.
    /// </summary>
    private void Count(Address remote, string what)
    {
        var dropped = Interlocked.Increment(ref _dropped);
        var fromOrigin = _droppedByOrigin.Count < MaxLearnedOrigins || _droppedByOrigin.ContainsKey(remote)
            ? _droppedByOrigin.AddOrUpdate(remote, 1, (_, count) => count == int.MaxValue ? count : count + 1)
            : int.MaxValue;
        if (fromOrigin <= LoggedDrops || dropped % 1_000 == 0)
        {
            _log.Warning("{0} from {1} ({2}; {3} frames refused so far).", what, remote, _security.NameAt(remote) ?? "an unknown peer", dropped);
        }
    }

    private static (string, int) Endpoint(string host, int port) => (host.ToLowerInvariant(), port);

    internal enum Decision
    {
        Pass,
        Drop,
        Close,
    }
}

/// <summary>Carries the guard's inputs into the ActorSystem, where Akka.Remote creates the transport adapter by its type name.</summary>
public sealed class PinGuardSetup(TransportSecurity security, IReadOnlyCollection<Address> validators) : Setup
{
    public TransportSecurity Security { get; } = security;

    public IReadOnlyCollection<Address> Validators { get; } = validators;
}

/// <summary>Named in `akka.remote.adapters`; Akka.Remote instantiates it by reflection.</summary>
public sealed class PinGuardProvider : ITransportAdapterProvider
{
    public const string AdapterName = "idos-pin-guard";

    public Transport Create(Transport wrappedTransport, ExtendedActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        var setup = system.Settings.Setup.Get<PinGuardSetup>();
        if (!setup.HasValue)
        {
            throw new InvalidOperationException($"The {AdapterName} transport adapter needs a {nameof(PinGuardSetup)}; TransportSecurity.CreateSystem adds it.");
        }

        var selectionSerializer = system.Serialization.FindSerializerForType(typeof(ActorSelectionMessage)).Identifier;
        var guard = new PinGuard(setup.Value.Security, setup.Value.Validators, selectionSerializer, Logging.GetLogger(system, typeof(PinGuard)));
        var connections = new PeerConnections(setup.Value.Security);
        setup.Value.Security.Attach(guard, connections);
        return new PinGuardTransport(wrappedTransport, guard, connections, setup.Value.Security);
    }
}

/// <summary>
/// A transport adapter that adds no scheme of its own (addresses stay `akka.ssl.tcp`) and wraps every association,
/// inbound and outbound, in a <see cref="PinGuardHandle"/>. It sits directly on the TLS transport, so the addresses
/// it sees are the sockets' and can be matched to the pins the handshakes proved.
/// </summary>
internal sealed class PinGuardTransport : Transport, IAssociationEventListener
{
    private readonly Transport _wrapped;
    private readonly PinGuard _guard;
    private readonly PeerConnections _connections;
    private readonly TransportSecurity _security;
    private readonly TaskCompletionSource<IAssociationEventListener> _upstream = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PinGuardTransport(Transport wrapped, PinGuard guard, PeerConnections connections, TransportSecurity security)
    {
        _wrapped = wrapped;
        _guard = guard;
        _connections = connections;
        _security = security;
        System = wrapped.System;
        Config = wrapped.Config;
    }

    public override string SchemeIdentifier => _wrapped.SchemeIdentifier;

    public override long MaximumPayloadBytes => _wrapped.MaximumPayloadBytes;

    public override async Task<(Address, TaskCompletionSource<IAssociationEventListener>)> Listen()
    {
        var (address, wrappedListener) = await _wrapped.Listen().ConfigureAwait(false);
        var upstream = new TaskCompletionSource<IAssociationEventListener>();
        // The wrapped transport starts reading once its listener is set, so it gets this one only when the layer above is ready.
        _ = upstream.Task.ContinueWith(task =>
        {
            _upstream.TrySetResult(task.Result);
            wrappedListener.TrySetResult(this);
        }, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously);
        return (address, upstream);
    }

    public override bool IsResponsibleFor(Address remote) => _wrapped.IsResponsibleFor(remote);

    public override async Task<AssociationHandle> Associate(Address remoteAddress) =>
        new PinGuardHandle(await _wrapped.Associate(remoteAddress).ConfigureAwait(false), _guard, _connections, _security);

    public override Task<bool> Shutdown() => _wrapped.Shutdown();

    public override Task<bool> ManagementCommand(object message) => _wrapped.ManagementCommand(message);

    public void Notify(IAssociationEvent ev)
    {
        var wrapped = ev is InboundAssociation inbound ? new InboundAssociation(new PinGuardHandle(inbound.Association, _guard, _connections, _security)) : ev;
        _upstream.Task.Result.Notify(wrapped);
    }
}

/// <summary>One connection: inbound frames pass the guard with the pin its TLS handshake proved; writes pass untouched.</summary>
internal sealed class PinGuardHandle : AssociationHandle, IHandleEventListener
{
    private readonly AssociationHandle _wrapped;
    private readonly PinGuard _guard;
    private readonly PeerConnections _connections;
    private readonly TransportSecurity _security;
    private IHandleEventListener? _upstream;
    private ConnectionPin? _connection;
    private volatile LinkedPeer? _peer;
    private long _lastFrameAtMs = Environment.TickCount64;
    private bool _closed;

    public PinGuardHandle(AssociationHandle wrapped, PinGuard guard, PeerConnections connections, TransportSecurity security)
        : base(wrapped.LocalAddress, wrapped.RemoteAddress)
    {
        _wrapped = wrapped;
        _guard = guard;
        _connections = connections;
        _security = security;
        connections.Opened(this);
        ReadHandlerSource.Task.ContinueWith(task =>
        {
            _upstream = task.Result;
            _wrapped.ReadHandlerSource.TrySetResult(this);
        }, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>Where the peer listens and the pin it proved, once its association handshake arrived (both sides send one).</summary>
    public LinkedPeer? Peer => _peer;

    /// <summary>Whether a frame arrived on this connection within the last <paramref name="milliseconds"/>: it is up at the transport.</summary>
    public bool ReceivedWithin(long milliseconds) => Environment.TickCount64 - Volatile.Read(ref _lastFrameAtMs) <= milliseconds;

    public override bool Write(ByteString payload) => _wrapped.Write(payload);

    [Obsolete("Akka marks the reasonless overload obsolete; the layer above still calls it.")]
    public override void Disassociate() => Close("the layer above closed it");

    public void Close(string reason)
    {
        _connections.Closed(this);
        _wrapped.Disassociate(reason, NoLogger.Instance);
    }

    /// <summary>Called by the transport's single reader of this connection, one event at a time.</summary>
    public void Notify(IHandleEvent ev)
    {
        if (ev is InboundPayload inbound)
        {
            if (_closed)
            {
                return;
            }

            Volatile.Write(ref _lastFrameAtMs, Environment.TickCount64);

            // The handshake that proved the pin finished before the first frame could be decrypted.
            _connection ??= _security.PinAt(RemoteAddress);
            switch (_guard.Judge(_connection?.Pin, inbound.Payload.Span, RemoteAddress))
            {
                case PinGuard.Decision.Drop:
                    return;
                case PinGuard.Decision.Close:
                    _closed = true;
                    Close("its peer broke the pin guard's rules");
                    return;
            }

            if (_peer is null && _connection is { } proven && _guard.OriginOf(inbound.Payload.Span) is { } origin)
            {
                _peer = new LinkedPeer(origin.Host, origin.Port, proven.Pin);
            }
        }
        else if (ev is Disassociated)
        {
            _connections.Closed(this);
            if (_connection is { } connection)
            {
                _security.Forget(RemoteAddress, connection);
            }
        }

        _upstream!.Notify(ev);
    }
}
