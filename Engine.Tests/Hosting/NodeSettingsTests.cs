using System.Net;
using System.Net.Sockets;
using Akka.Configuration;
using IdOS.Akka.Engine.Hosting;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Hosting;

/// <summary>Each way a node's configuration can be wrong stops it at start with one message naming the setting.</summary>
[Trait("Category", "Unit")]
public sealed class NodeSettingsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("idos-node-");

    public NodeSettingsTests()
    {
        var validators = Enumerable.Range(1, 4).Select(i => KeyFiles.GenerateValidator(PathOf($"v{i}/validator.key"))).ToList();
        GenesisFile.Write(PathOf("genesis.json"), "test-net", DateTimeOffset.UnixEpoch, validators);
        KeyFiles.GenerateValidator(PathOf("stranger/validator.key"));
        TlsFiles.Generate(PathOf("rpc.crt"), PathOf("rpc.key"), "test rpc member");
    }

    public void Dispose() => _dir.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(_dir.FullName, name);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private Config Node(string overrides = "", string key = "v3/validator.key", int? port = null) => ConfigurationFactory.ParseString($$"""
        {{overrides}}
        idos.node {
          key-file = "{{PathOf(key)}}"
          genesis-file = "{{PathOf("genesis.json")}}"
          data-directory = "{{PathOf("data")}}"
        }
        akka.remote.dot-netty.tcp.port = {{port ?? FreePort()}}
        akka.cluster.seed-nodes = ["akka.tcp://idos@127.0.0.1:4051", "akka.tcp://idos@127.0.0.1:4052"]
        """).WithFallback(ConfigurationFactory.ParseString(TestFiles.NodeConf));

    [Fact]
    public void Closing_silent_links_is_turned_off_by_zero()
    {
        using var settings = NodeSettings.Load(Node("idos.node.close-silent-links-after = 0s"));

        Assert.Null(settings.CloseSilentLinksAfter);
    }

    [Fact]
    public void A_good_configuration_names_the_validator_its_key_belongs_to()
    {
        using var settings = NodeSettings.Load(Node());

        Assert.Equal(2, settings.ValidatorIndex);
        Assert.Equal("test-net", settings.Chain.ChainId);
        Assert.Equal(2, settings.SeedNodes.Count);
        Assert.True(Directory.Exists(PathOf("data")));
        Assert.True(settings.Transport.IsTls);
        Assert.All(settings.SeedNodes, seed => Assert.Equal("akka.ssl.tcp", seed.Protocol));
        Assert.Equal(4, settings.Transport.Accepted.Count);
        Assert.Equal("validator 0", settings.Transport.Accepted[TlsFiles.PinOf(PathOf("v1/tls.crt"))]);
        Assert.Equal("127.0.0.1:26660", settings.MetricsEndpoint?.ToString());
        Assert.Equal("127.0.0.1:26680", settings.AdminEndpoint?.ToString());
        Assert.Equal(10, settings.Health.MaxBlocksBehind);
        Assert.Equal(TimeSpan.FromSeconds(15), settings.CloseSilentLinksAfter);
    }

    [Fact]
    public void Rpc_members_are_accepted_by_their_pins_given_or_read_from_a_certificate()
    {
        var pin = TlsFiles.PinOf(PathOf("rpc.crt"));
        var other = TlsFiles.PinOf(PathOf("stranger/tls.crt"));
        using var settings = NodeSettings.Load(Node($$"""
            idos.node.rpc-members = [
              { name = "by-file", certificate-file = "{{PathOf("rpc.crt")}}" },
              { name = "by-pin", pin = "{{other.ToString().ToUpperInvariant()}}" }
            ]
            """));

        Assert.Equal("by-file", settings.Transport.Accepted[pin]);
        Assert.Equal("by-pin", settings.Transport.Accepted[other]);
    }

    [Fact]
    public void A_certificate_genesis_does_not_bind_to_this_validator_is_refused()
    {
        var error = Assert.Throws<ConfigurationException>(() =>
            NodeSettings.Load(Node($"idos.node.tls.certificate-file = \"{PathOf("v4/tls.crt")}\"")));

        Assert.Contains("is not bound to validator 2 in genesis", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Insecure_runs_on_plain_tcp_without_any_certificate()
    {
        File.Delete(PathOf("v3/tls.crt"));
        using var settings = NodeSettings.Load(Node("idos.node.insecure = on"));

        Assert.False(settings.Transport.IsTls);
        Assert.All(settings.SeedNodes, seed => Assert.Equal("akka.tcp", seed.Protocol));
    }

    [Fact]
    public void A_genesis_without_pins_needs_insecure()
    {
        File.Delete(PathOf("genesis.json"));
        GenesisFile.Write(PathOf("genesis.json"), "test-net", DateTimeOffset.UnixEpoch,
            [.. Enumerable.Range(1, 4).Select(i => KeyFiles.ReadPublic(PathOf($"v{i}/validator.key")))]);

        var error = Assert.Throws<ConfigurationException>(() => NodeSettings.Load(Node()));

        Assert.Contains("not bound to validator 2 in genesis; genesis binds no pin", error.Message, StringComparison.Ordinal);
        using var insecure = NodeSettings.Load(Node("idos.node.insecure = on"));
    }

    [Fact]
    public void A_key_that_is_not_in_genesis_is_an_unknown_validator()
    {
        var error = Assert.Throws<ConfigurationException>(() => NodeSettings.Load(Node(key: "stranger/validator.key")));

        Assert.Contains("is not a validator of chain test-net", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_key_file_is_named()
    {
        var error = Assert.Throws<NodeFileException>(() => NodeSettings.Load(Node(key: "absent.key")));

        Assert.Contains("absent.key cannot be read", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("akka.cluster.seed-nodes = []", "akka.cluster.seed-nodes is empty")]
    [InlineData("akka.cluster.seed-nodes = [\"not an address\"]", "is not an actor system address")]
    [InlineData("akka.cluster.min-nr-of-members = 4", "at most 2f + 1 = 3")]
    [InlineData("idos.node.genesis-file = \"\"", "idos.node.genesis-file is not set")]
    [InlineData("idos.consensus.max-round-timeout = 1ms", "is below base-round-timeout")]
    [InlineData("idos.node.application = ledger", "it is idos (the default), or opaque or noop")]
    [InlineData("idos.node.state-store.provider = mysql", "it is sqlite (the default) or postgresql")]
    [InlineData("idos.node.state-store.provider = postgresql", "connection-string is not set")]
    [InlineData("idos.node.state-store.connection-string = \"Host=x\"", "is for postgresql")]
    [InlineData("idos.node.retention.blocks = 3", "keep at least 16 blocks")]
    [InlineData("idos.node.rpc-members = [{ name = x, pin = \"abc\" }]", "idos.node.rpc-members[0] (x): pin \"abc\" is not 64 hex digits")]
    [InlineData("idos.node.rpc-members = [{ pin = \"abc\" }]", "idos.node.rpc-members[0] has no name")]
    [InlineData("idos.node.rpc-members = [{ name = x }]", "needs exactly one of pin and certificate-file")]
    [InlineData("idos.node.rpc-members = [\"x\"]", "idos.node.rpc-members[0] is not an object")]
    [InlineData("idos.node.tls.key-file = \"/nonexistent/tls.key\"", "cannot be read")]
    [InlineData("idos.node.admin.listen = \"0.0.0.0:26680\"", "listens on a loopback address only")]
    [InlineData("idos.node.admin.listen = \"localhost\"", "is not an IP address and port")]
    [InlineData("idos.node.metrics.port = 70000", "it is 0 (any free port) to 65535")]
    [InlineData("idos.node.metrics.host = \"metrics.example\"", "it is an IP address to bind")]
    [InlineData("idos.node.health.max-blocks-behind = 0", "it is at least 1")]
    [InlineData("idos.node.close-silent-links-after = 5s", "idos.node.close-silent-links-after is 5 s; 0 turns it off, else at least 11 s")]
    public void A_bad_setting_is_named(string setting, string message)
    {
        var config = ConfigurationFactory.ParseString(setting).WithFallback(Node());

        var error = Record.Exception(() => NodeSettings.Load(config));

        Assert.NotNull(error);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_retention_window_shorter_than_the_leader_history_is_refused()
    {
        var validators = Enumerable.Range(1, 9).Select(i => KeyFiles.GenerateValidator(PathOf($"w{i}/validator.key"))).ToList();
        validators.Add(KeyFiles.ReadValidator(PathOf("v3/validator.key.pub")));
        GenesisFile.Write(PathOf("genesis10.json"), "test-net-10", DateTimeOffset.UnixEpoch, validators);
        var config = ConfigurationFactory.ParseString($$"""
            idos.node.genesis-file = "{{PathOf("genesis10.json")}}"
            idos.node.retention.blocks = 20
            """).WithFallback(Node());

        var error = Assert.Throws<ConfigurationException>(() => NodeSettings.Load(config));

        Assert.Contains("leader election reads the last 31 committed blocks", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_port_another_process_holds_is_refused_at_start()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var taken = ((IPEndPoint)holder.LocalEndpoint).Port;

        var error = Assert.Throws<ConfigurationException>(() => NodeSettings.Load(Node(port: taken)));

        Assert.Contains($"port {taken} on 127.0.0.1 cannot be bound", error.Message, StringComparison.Ordinal);
    }
}
