using System.Collections.Frozen;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

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
    private readonly X509Certificate2? _certificate;
    private readonly FrozenDictionary<TlsPin, string> _accepted;
    private long _refused;

    private TransportSecurity(X509Certificate2? certificate, FrozenDictionary<TlsPin, string> accepted)
    {
        _certificate = certificate;
        _accepted = accepted;
    }

    public static TransportSecurity Insecure { get; } = new(null, FrozenDictionary<TlsPin, string>.Empty);

    /// <param name="certificate">This system's certificate with its private key.</param>
    /// <param name="accepted">The pins of every peer this system may talk to, each with a name for the logs.</param>
    public static TransportSecurity PinnedTls(X509Certificate2 certificate, IReadOnlyDictionary<TlsPin, string> accepted)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(accepted);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException("The certificate needs its private key for the handshake.", nameof(certificate));
        }

        return new TransportSecurity(certificate, accepted.ToFrozenDictionary());
    }

    public bool IsTls => _certificate is not null;

    /// <summary>This system's own pin; null without TLS.</summary>
    public TlsPin? OwnPin => _certificate is null ? null : TlsPin.Of(_certificate);

    public IReadOnlyDictionary<TlsPin, string> Accepted => _accepted;

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
        var adapters = config.HasPath("akka.remote.dot-netty.tcp.applied-adapters")
            ? config.GetStringList("akka.remote.dot-netty.tcp.applied-adapters")
            : [];
        return "akka." + string.Concat(adapters.Reverse().Select(adapter => adapter + ".")) + (IsTls ? "ssl.tcp" : "tcp");
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

    /// <summary>Starts the system with this transport; <paramref name="config"/> must not switch TLS itself.</summary>
    public ActorSystem CreateSystem(string name, Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var transport = ConfigurationFactory.ParseString($"akka.remote.dot-netty.tcp.enable-ssl = {(IsTls ? "on" : "off")}");
        var bootstrap = BootstrapSetup.Create().WithConfig(transport.WithFallback(config));
        var setup = _certificate is null
            ? ActorSystemSetup.Create(bootstrap)
            : ActorSystemSetup.Create(bootstrap, new DotNettySslSetup(_certificate, suppressValidation: false, requireMutualAuthentication: true,
                validateCertificateHostname: false, Validate));
        var system = ActorSystem.Create(name, setup);
        if (!IsTls)
        {
            system.Log.Warning("Akka.Remote runs WITHOUT TLS (insecure = on): any process that reaches {0} can send this system messages, " +
                "read what it answers and join its cluster. Use it only on a network no one else reaches.",
                ((ExtendedActorSystem)system).Provider.DefaultAddress);
        }

        return system;
    }

    private bool Validate(X509Certificate2? certificate, X509Chain? chain, string peer, System.Net.Security.SslPolicyErrors errors, ILoggingAdapter log)
    {
        if (certificate is not null && _accepted.ContainsKey(TlsPin.Of(certificate)))
        {
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
