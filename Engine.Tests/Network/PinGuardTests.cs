using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Network;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Network;

/// <summary>
/// The pin guard on real Akka.Remote systems over mutual TLS in one process: a host that lists one validator pin and
/// one member pin, and senders holding each. Whether a frame passes is decided by the pin of the connection it came
/// on, whatever the sender writes. Negative checks end on a barrier: an allowed message sent after the refused one on
/// the same connection, then a local message behind it in the recipient's mailbox.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class PinGuardTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("idos-pin-guard-");
    private readonly X509Certificate2 _host;
    private readonly X509Certificate2 _validator;
    private readonly X509Certificate2 _member;
    private readonly Channel<string> _arrivals = Channel.CreateUnbounded<string>();
    private TransportSecurity? _hostSecurity;

    public PinGuardTests()
    {
        _host = Certificate("host");
        _validator = Certificate("validator");
        _member = Certificate("member");
    }

    public void Dispose()
    {
        _host.Dispose();
        _validator.Dispose();
        _member.Dispose();
        _dir.Delete(recursive: true);
    }

    [Fact]
    public async Task A_member_connection_reaches_user_actors_but_not_the_cluster_paths_a_validator_connection_reaches()
    {
        using var host = Host([]);
        var cluster = ((ExtendedActorSystem)host).SystemActorOf(Props.Create(() => new Recorder(_arrivals.Writer, "cluster")), "cluster");
        host.ActorOf(Props.Create(() => new Recorder(_arrivals.Writer, "echo")), "echo");
        var hostAddress = ((ExtendedActorSystem)host).Provider.DefaultAddress;
        using var validator = Sender(_validator);
        using var member = Sender(_member);

        Select(validator, hostAddress, "system", "cluster").Tell("from the validator");
        Assert.Equal("cluster: from the validator", await Next());

        Select(member, hostAddress, "system", "cluster").Tell("from the member");
        Select(member, hostAddress, "system", "cluster", "core", "daemon").Tell("from the member, deeper");
        Select(member, hostAddress, "user", "..", "system", "cluster").Tell("from the member, climbing");
        Select(member, hostAddress, "user", "echo").Tell("barrier");
        Assert.Equal("echo: barrier", await Next());
        Assert.Equal("pong", await cluster.Ask<string>("ping", Wait));
        Assert.False(_arrivals.Reader.TryRead(out var leaked), $"a member's frame reached /system/cluster: {leaked}");
        Assert.True(_hostSecurity!.GuardDropped >= 3, $"the guard counted {_hostSecurity.GuardDropped} dropped frames");
    }

    [Fact]
    public async Task A_member_claiming_a_validators_address_is_disconnected_before_any_message()
    {
        using var validator = Sender(_validator);
        var validatorAddress = ((ExtendedActorSystem)validator).Provider.DefaultAddress;
        using var host = Host([validatorAddress]);
        host.ActorOf(Props.Create(() => new Recorder(_arrivals.Writer, "echo")), "echo");
        var hostAddress = ((ExtendedActorSystem)host).Provider.DefaultAddress;

        // The member advertises the validator's host and port as its own, as Akka's public-hostname/public-port allow.
        using var impostor = Sender(_member, $"""
            akka.remote.dot-netty.tcp.public-hostname = "{validatorAddress.Host}"
            akka.remote.dot-netty.tcp.public-port = {validatorAddress.Port}
            """);
        Select(impostor, hostAddress, "user", "echo").Tell("from the impostor");
        Select(validator, hostAddress, "user", "echo").Tell("from the validator");
        Assert.Equal("echo: from the validator", await Next());

        // An honest member (its own address) is still served: the refusal was about the claim, not the pin.
        using var member = Sender(_member);
        Select(member, hostAddress, "user", "echo").Tell("from the member");
        Assert.Equal("echo: from the member", await Next());
        Assert.False(_arrivals.Reader.TryRead(out var leaked), $"the impostor's message arrived: {leaked}");
    }

    [Fact]
    public async Task A_validator_that_governance_removed_is_disconnected_and_one_that_joined_speaks_for_the_cluster()
    {
        using var validatorKey = Ed25519PrivateKey.GenerateExportable();
        using var joinerCertificate = Certificate("joiner");
        using var host = Host([], validatorKey.PublicKey);
        ((ExtendedActorSystem)host).SystemActorOf(Props.Create(() => new Recorder(_arrivals.Writer, "cluster")), "cluster");
        host.ActorOf(Props.Create(() => new Recorder(_arrivals.Writer, "echo")), "echo");
        var hostAddress = ((ExtendedActorSystem)host).Provider.DefaultAddress;
        using var validator = Sender(_validator);
        Select(validator, hostAddress, "user", "echo").Tell("from the validator, in the set");
        Assert.Equal("echo: from the validator, in the set", await Next());

        // Governance removed the genesis validator and admitted the joiner.
        _hostSecurity!.KeepGenesisValidators(new HashSet<Ed25519PublicKey>());
        _hostSecurity.AdmitJoinedValidators([TlsPin.Of(joinerCertificate)]);
        var droppedBefore = _hostSecurity.GuardDropped;
        Select(validator, hostAddress, "user", "echo").Tell("from the validator, removed");
        using var joiner = Sender(joinerCertificate);
        Select(joiner, hostAddress, "system", "cluster").Tell("from the joiner");

        Assert.Equal("cluster: from the joiner", await Next());
        await Cluster.Eventually.Holds(() => Task.FromResult((_hostSecurity.GuardDropped > droppedBefore, $"{_hostSecurity.GuardDropped} dropped")),
            "the guard to close the removed validator's connection", Wait);
        Assert.False(_arrivals.Reader.TryRead(out var leaked), $"the removed validator's message arrived: {leaked}");
        Assert.False(_hostSecurity.IsAccepted(TlsPin.Of(_validator)));
        Assert.True(_hostSecurity.IsAccepted(TlsPin.Of(_member)));
    }

    [Fact]
    public async Task Closing_a_validators_connections_by_its_address_makes_it_dial_again_and_never_closes_a_members()
    {
        using var host = Host([]);
        host.ActorOf(Props.Create(() => new Recorder(_arrivals.Writer, "echo")), "echo");
        var hostAddress = ((ExtendedActorSystem)host).Provider.DefaultAddress;
        using var validator = Sender(_validator, "akka.remote.retry-gate-closed-for = 200ms");
        using var member = Sender(_member);
        Select(validator, hostAddress, "user", "echo").Tell("from the validator");
        Assert.Equal("echo: from the validator", await Next());
        Select(member, hostAddress, "user", "echo").Tell("from the member");
        Assert.Equal("echo: from the member", await Next());

        // By the address each listens on, which the host learns from their association handshakes, not the sockets'.
        Assert.Equal(0, _hostSecurity!.CloseConnectionsWith(((ExtendedActorSystem)member).Provider.DefaultAddress, Wait.Ticks / TimeSpan.TicksPerMillisecond, "a test"));
        Assert.Equal(1, _hostSecurity.CloseConnectionsWith(((ExtendedActorSystem)validator).Provider.DefaultAddress, Wait.Ticks / TimeSpan.TicksPerMillisecond, "a test"));

        // The member's connection is untouched: its next message arrives on it.
        Select(member, hostAddress, "user", "echo").Tell("from the member, again");
        Assert.Equal("echo: from the member, again", await Next());

        // The validator's sends fail until its Akka.Remote notices the closed connection and dials again.
        await Cluster.Eventually.Holds(async () =>
        {
            Select(validator, hostAddress, "user", "echo").Tell("from the validator, redialled");
            using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            try
            {
                return (await _arrivals.Reader.ReadAsync(timeout.Token) == "echo: from the validator, redialled", "");
            }
            catch (OperationCanceledException)
            {
                return (false, "nothing arrived");
            }
        }, "the validator's messages to arrive on a new connection", Wait);
    }

    private async Task<string> Next()
    {
        using var timeout = new CancellationTokenSource(Wait);
        return await _arrivals.Reader.ReadAsync(timeout.Token);
    }

    private ActorSystem Host(IReadOnlyCollection<Address> validators, Ed25519PublicKey? validatorKey = null)
    {
        var security = TransportSecurity.PinnedTls(_host, new Dictionary<TlsPin, string>
        {
            [TlsPin.Of(_validator)] = "validator",
            [TlsPin.Of(_member)] = "member",
        }, [TlsPin.Of(_validator)],
            validatorKey is null ? null : new Dictionary<Ed25519PublicKey, IReadOnlyList<TlsPin>> { [validatorKey] = [TlsPin.Of(_validator)] });
        _hostSecurity = security;
        return security.CreateSystem("idos", Config("akka.remote.untrusted-mode = off"), validators);
    }

    private ActorSystem Sender(X509Certificate2 certificate, string extra = "") =>
        TransportSecurity.PinnedTls(certificate, new Dictionary<TlsPin, string> { [TlsPin.Of(_host)] = "host" }, [TlsPin.Of(_host)])
            .CreateSystem("idos", Config(extra));

    private static Config Config(string extra) => ConfigurationFactory.ParseString($"""
        {extra}
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp.hostname = "127.0.0.1"
        akka.remote.dot-netty.tcp.port = 0
        akka.loglevel = WARNING
        akka.log-dead-letters = off
        """).WithFallback(NodeConfig.Defaults);

    /// <summary>By a path string, so that `..` stays a step to the parent as Akka reads it.</summary>
    private static ActorSelection Select(ActorSystem from, Address to, params string[] path) => from.ActorSelection($"{to}/{string.Join('/', path)}");

    private X509Certificate2 Certificate(string name)
    {
        var path = Path.Combine(_dir.FullName, name + ".crt");
        TlsFiles.Generate(path, TlsFiles.KeyFileOf(path), name);
        return TlsFiles.Load(path, TlsFiles.KeyFileOf(path));
    }

    private sealed class Recorder : ReceiveActor
    {
        public Recorder(ChannelWriter<string> arrivals, string name)
        {
            Receive<string>(text => text == "ping", _ => Sender.Tell("pong"));
            Receive<string>(text => arrivals.TryWrite($"{name}: {text}"));
        }
    }
}
