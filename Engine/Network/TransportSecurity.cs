using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Network;

/// <summary>
/// How an ActorSystem of ours talks Akka.Remote: mutual TLS in which both ends accept only the certificates whose key
/// pins they list (the default), or plain TCP that anyone who reaches the port can use (an explicit choice, warned
/// about at every start). An unlisted or missing certificate fails the TLS handshake, before Akka reads a byte of the
/// peer's messages; certificate chains, issuers and host names are not consulted, since the pins alone say who a peer is.
/// </summary>
public sealed class TransportSecurity
{
    private const int LoggedRefusals = 10;
    private const int MaxConnectionsOnRecord = 10_000;
    private readonly X509Certificate2? _certificate;
    private readonly FrozenDictionary<TlsPin, string> _accepted;
    private readonly FrozenSet<TlsPin> _validators;
    private readonly FrozenDictionary<Ed25519PublicKey, TlsPin[]> _genesisPins;
    private volatile FrozenSet<TlsPin> _joined = FrozenSet<TlsPin>.Empty;
    private volatile FrozenSet<TlsPin> _withdrawn = FrozenSet<TlsPin>.Empty;
    private readonly ConcurrentDictionary<(string Host, int Port), ConnectionPin> _connections = new();
    private long _handshakes;
    private PinGuard? _guard;
    private PeerConnections? _peerConnections;
    private long _refused;

    private TransportSecurity(X509Certificate2? certificate, FrozenDictionary<TlsPin, string> accepted, FrozenSet<TlsPin> validators,
        FrozenDictionary<Ed25519PublicKey, TlsPin[]> genesisPins)
    {
        _certificate = certificate;
        _accepted = accepted;
        _validators = validators;
        _genesisPins = genesisPins;
    }

    public static TransportSecurity Insecure { get; } =
        new(null, FrozenDictionary<TlsPin, string>.Empty, FrozenSet<TlsPin>.Empty, FrozenDictionary<Ed25519PublicKey, TlsPin[]>.Empty);

    /// <param name="certificate">This system's certificate with its private key.</param>
    /// <param name="accepted">The pins of every peer this system may talk to, each with a name for the logs.</param>
    /// <param name="validators">Those of <paramref name="accepted"/> that genesis binds to validators: only their connections may speak for the cluster.</param>
    /// <param name="genesisPins">The same pins by the validator key genesis binds them to, so that a validator governance removes loses them.</param>
    public static TransportSecurity PinnedTls(X509Certificate2 certificate, IReadOnlyDictionary<TlsPin, string> accepted, IEnumerable<TlsPin> validators,
        IReadOnlyDictionary<Ed25519PublicKey, IReadOnlyList<TlsPin>>? genesisPins = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(accepted);
        ArgumentNullException.ThrowIfNull(validators);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException("The certificate needs its private key for the handshake.", nameof(certificate));
        }

        var validatorPins = validators.ToFrozenSet();
        var unlisted = validatorPins.Where(pin => !accepted.ContainsKey(pin)).ToList();
        return unlisted.Count == 0
            ? new TransportSecurity(certificate, accepted.ToFrozenDictionary(), validatorPins,
                (genesisPins ?? new Dictionary<Ed25519PublicKey, IReadOnlyList<TlsPin>>()).ToFrozenDictionary(entry => entry.Key, entry => entry.Value.ToArray()))
            : throw new ArgumentException($"Validator pins {string.Join(", ", unlisted)} are not among the accepted ones.", nameof(validators));
    }

    public bool IsTls => _certificate is not null;

    /// <summary>This system's own pin; null without TLS.</summary>
    public TlsPin? OwnPin => _certificate is null ? null : TlsPin.Of(_certificate);

    public IReadOnlyDictionary<TlsPin, string> Accepted => _accepted;

    /// <summary>The pins genesis binds to validators.</summary>
    public IReadOnlySet<TlsPin> ValidatorPins => _validators;

    public bool IsValidatorPin(TlsPin pin) => (_validators.Contains(pin) && !_withdrawn.Contains(pin)) || _joined.Contains(pin);

    /// <summary>
    /// Whether a handshake with this pin is accepted now: it is listed and its validator not removed, or bound to a
    /// validator that joined by governance.
    /// </summary>
    public bool IsAccepted(TlsPin pin) => (_accepted.ContainsKey(pin) && !_withdrawn.Contains(pin)) || _joined.Contains(pin);

    /// <summary>
    /// The pins of the validators that joined by governance and have, or will have, a vote: accepted from now on as a
    /// genesis validator's are. A pin no longer among them is refused at its next handshake, and the pin guard closes
    /// a connection that still carries it.
    /// </summary>
    public void AdmitJoinedValidators(IEnumerable<TlsPin> pins)
    {
        ArgumentNullException.ThrowIfNull(pins);
        _joined = pins.Where(pin => !_accepted.ContainsKey(pin)).ToFrozenSet();
    }

    /// <summary>
    /// The validators still admitted (of the current, the last or a scheduled set): the genesis validators not among
    /// them lose their pins as joined ones do (<see cref="AdmitJoinedValidators"/>).
    /// </summary>
    public void KeepGenesisValidators(IReadOnlySet<Ed25519PublicKey> admitted)
    {
        ArgumentNullException.ThrowIfNull(admitted);
        _withdrawn = _genesisPins.Where(entry => !admitted.Contains(entry.Key)).SelectMany(entry => entry.Value).ToFrozenSet();
    }

    /// <summary>Frames the pin guard dropped on this system (0 without TLS, which has no guard).</summary>
    public long GuardDropped => _guard?.Dropped ?? 0;

    /// <summary>A hello proving to <paramref name="to"/>'s query actor that <paramref name="from"/> holds this certificate; null without TLS.</summary>
    public MemberHello? HelloTo(Address from, Address to, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        return _certificate is null ? null : MemberHello.Sign(_certificate, from.ToString(), to.ToString(), nowMs);
    }

    /// <summary>Handshakes refused because the peer's certificate was missing or not listed.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>The address scheme of a system with this security and <paramref name="config"/>'s transport adapters (the throttler's in tests).</summary>
    public string Protocol(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        // The pin guard adds no scheme of its own; the others (the throttler's in tests) prefix theirs, the last listed innermost.
        var adapters = config.HasPath(AppliedAdapters) ? config.GetStringList(AppliedAdapters) : [];
        return "akka." + string.Concat(adapters.Where(a => a != PinGuardProvider.AdapterName).Reverse().Select(adapter => adapter + "."))
            + (IsTls ? "ssl.tcp" : "tcp");
    }

    /// <summary>
    /// An address as this system must dial it: operators may write seeds and validator lists with either scheme, and
    /// the transport decides which one the system speaks.
    /// </summary>
    public Address Dialed(Address address, Config config)
    {
        ArgumentNullException.ThrowIfNull(address);
        var protocol = Protocol(config);
        return address.Protocol == protocol ? address : new Address(protocol, address.System, address.Host, address.Port);
    }

    /// <summary>
    /// Starts the system with this transport; <paramref name="config"/> must not switch TLS itself. With TLS, every
    /// connection passes the <see cref="PinGuard"/>, which refuses a non-validator's handshake claiming any of
    /// <paramref name="validators"/>' addresses (and of those validators it has seen connect). A failed outbound
    /// handshake does not stop the system (<see cref="HandshakeFailureGuard"/>): stop it with
    /// <see cref="HandshakeFailureGuard.Stop"/>.
    /// </summary>
    public ActorSystem CreateSystem(string name, Config config, IReadOnlyCollection<Address>? validators = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var transport = ConfigurationFactory.ParseString($"akka.remote.dot-netty.tcp.enable-ssl = {(IsTls ? "on" : "off")}");
        if (IsTls)
        {
            var adapters = config.HasPath(AppliedAdapters) ? config.GetStringList(AppliedAdapters) : [];
            // Akka applies the list from its end, so the guard, last, wraps the TLS transport itself. Akka renders the
            // type name back to text and quotes it if it holds a space, hence none after the comma.
            var applied = string.Join(", ", adapters.Append(PinGuardProvider.AdapterName).Select(adapter => '"' + adapter + '"'));
            transport = ConfigurationFactory.ParseString($"""
                akka.remote.adapters.{PinGuardProvider.AdapterName} = "IdOS.Akka.Engine.Network.PinGuardProvider,idos-engine"
                {AppliedAdapters} = [{applied}]
                """).WithFallback(transport);
        }

        var bootstrap = BootstrapSetup.Create().WithConfig(transport.WithFallback(HandshakeFailureGuard.Config).WithFallback(config));
        var setup = _certificate is null
            ? ActorSystemSetup.Create(bootstrap)
            : ActorSystemSetup.Create(bootstrap, new DotNettySslSetup(_certificate, suppressValidation: false, requireMutualAuthentication: true,
                validateCertificateHostname: false, Validate), new PinGuardSetup(this, validators ?? []));
        var system = ActorSystem.Create(name, setup);
        HandshakeFailureGuard.Install(system);
        if (!IsTls)
        {
            system.Log.Warning("Akka.Remote runs WITHOUT TLS (insecure = on): any process that reaches {0} can send this system messages, " +
                "read what it answers and join its cluster. Use it only on a network no one else reaches.",
                ((ExtendedActorSystem)system).Provider.DefaultAddress);
        }

        return system;
    }

    /// <summary>The pin the TLS handshake of the connection to or from <paramref name="remote"/> proved, if it is still open.</summary>
    internal ConnectionPin? PinAt(Address remote) => Key(remote) is { } key && _connections.TryGetValue(key, out var pin) ? pin : null;

    /// <summary>The name of the peer at <paramref name="remote"/> for the logs.</summary>
    internal string? NameAt(Address remote) => PinAt(remote) is { } connection && _accepted.TryGetValue(connection.Pin, out var name) ? name : null;

    /// <summary>Drops the record of a closed connection, unless a newer connection from the same address has replaced it.</summary>
    internal void Forget(Address remote, ConnectionPin connection)
    {
        if (Key(remote) is { } key)
        {
            _connections.TryRemove(KeyValuePair.Create(key, connection));
        }
    }

    internal void Attach(PinGuard guard, PeerConnections connections)
    {
        _guard = guard;
        _peerConnections = connections;
    }

    /// <summary>
    /// Closes this system's connections to the validator listening at <paramref name="peer"/> that received a frame
    /// within <paramref name="receivedWithinMs"/>, so that Akka.Remote dials it afresh (see <see cref="PeerConnections"/>);
    /// 0 without TLS, which keeps no record of them.
    /// </summary>
    public int CloseConnectionsWith(Address peer, long receivedWithinMs, string reason) =>
        _peerConnections?.CloseWith(peer, receivedWithinMs, reason) ?? 0;

    private const string AppliedAdapters = "akka.remote.dot-netty.tcp.applied-adapters";

    /// <summary>
    /// A connection's key, the same from both sides of the transport: an inbound socket is reported to the validation
    /// callback as `ip:port` and to the association as an Akka address of that ip (IPv6 in brackets) and port; an
    /// outbound one both times as the address dialed.
    /// </summary>
    private static (string Host, int Port)? Key(Address remote) =>
        remote.Host is { } host && remote.Port is { } port ? (host.ToLowerInvariant(), port) : null;

    private static (string Host, int Port)? Key(string peer)
    {
        if (IPEndPoint.TryParse(peer, out var socket))
        {
            var ip = socket.Address;
            var host = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();
            return (host.ToLowerInvariant(), socket.Port);
        }

        // An address as the transport writes it, `ssl.tcp://system@host:port` (Address.TryParse wants an akka scheme).
        var at = peer.LastIndexOf('@');
        var colon = peer.LastIndexOf(':');
        return at >= 0 && colon > at && int.TryParse(peer.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            ? (peer[(at + 1)..colon].ToLowerInvariant(), port)
            : null;
    }

    private void Record(string peer, TlsPin pin)
    {
        if (Key(peer) is not { } key)
        {
            return;
        }

        // Only listed peers get here, each through a full handshake, and each connection's entry leaves with it; the
        // bound covers connections that closed before Akka saw them.
        if (_connections.Count >= MaxConnectionsOnRecord)
        {
            _connections.Clear();
        }

        _connections[key] = new ConnectionPin(pin, Interlocked.Increment(ref _handshakes));
    }

    private bool Validate(X509Certificate2? certificate, X509Chain? chain, string peer, System.Net.Security.SslPolicyErrors errors, ILoggingAdapter log)
    {
        if (certificate is not null && TlsPin.Of(certificate) is var pin && IsAccepted(pin))
        {
            Record(peer, pin);
            return true;
        }

        var refused = Interlocked.Increment(ref _refused);
        if (refused <= LoggedRefusals || refused % 1_000 == 0)
        {
            log.Warning("Refused a TLS peer at {0}: {1} ({2} refused so far). Peers are accepted by the pin of their certificate's key: " +
                "validators by genesis, RPC members by idos.node.rpc-members.", peer,
                certificate is null ? "it sent no certificate" : $"its certificate's pin {TlsPin.Of(certificate)} is not listed", refused);
        }

        return false;
    }
}

/// <summary>The pin one TLS handshake proved, numbered so that a closed connection's record is told from its successor's.</summary>
internal readonly record struct ConnectionPin(TlsPin Pin, long Handshake);
