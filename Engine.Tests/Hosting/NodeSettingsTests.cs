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
        var keys = Enumerable.Range(1, 4).Select(i => KeyFiles.Generate(PathOf($"v{i}.key"))).ToList();
        GenesisFile.Write(PathOf("genesis.json"), "test-net", DateTimeOffset.UnixEpoch, keys);
        KeyFiles.Generate(PathOf("stranger.key"));
    }

    public void Dispose() => _dir.Delete(recursive: true);

    private string PathOf(string name) => Path.Combine(_dir.FullName, name);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private Config Node(string overrides = "", string key = "v3.key", int? port = null) => ConfigurationFactory.ParseString($$"""
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
    public void A_good_configuration_names_the_validator_its_key_belongs_to()
    {
        using var settings = NodeSettings.Load(Node());

        Assert.Equal(2, settings.ValidatorIndex);
        Assert.Equal("test-net", settings.Chain.ChainId);
        Assert.Equal(2, settings.SeedNodes.Count);
        Assert.True(Directory.Exists(PathOf("data")));
    }

    [Fact]
    public void A_key_that_is_not_in_genesis_is_an_unknown_validator()
    {
        var error = Assert.Throws<ConfigurationException>(() => NodeSettings.Load(Node(key: "stranger.key")));

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
    public void A_bad_setting_is_named(string setting, string message)
    {
        var config = ConfigurationFactory.ParseString(setting).WithFallback(Node());

        var error = Record.Exception(() => NodeSettings.Load(config));

        Assert.NotNull(error);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
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
