using Akka.Configuration;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Hosting;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Hosting;

[Trait("Category", "Unit")]
public sealed class ConsensusSettingsTests
{
    private static string NodeConf => TestFiles.NodeConf;

    [Fact]
    public void The_shipped_node_conf_holds_the_protocol_defaults()
    {
        var settings = ConsensusSettings.FromConfig(ConfigurationFactory.ParseString(NodeConf));

        // The replica's own default never waits (the simulator and replica tests drive blocks without timers); a node rests.
        Assert.Equal(PacemakerPolicy.Default with { IdleIntervalMs = 1_000 }, settings.Pacemaker);
        Assert.Equal(ConsensusLimits.Default, settings.Limits);
    }

    [Theory]
    [InlineData("base-round-timeout = 0s", "must be a positive duration")]
    [InlineData("max-round-timeout = 100ms", "is below base-round-timeout")]
    [InlineData("max-transaction-bytes = 8MiB", "larger than max-block-bytes")]
    [InlineData("max-transactions-per-block = 0", "must be from 1 to 1000000")]
    [InlineData("max-block-bytes = lots", "idos.consensus.max-block-bytes cannot be read")]
    [InlineData("idle-interval = 11m", "from 0 (never wait) to 10 minutes")]
    public void A_bad_value_names_its_path(string line, string message)
    {
        var config = ConfigurationFactory.ParseString("idos.consensus { " + line + " }").WithFallback(ConfigurationFactory.ParseString(NodeConf));

        var error = Assert.Throws<ConfigurationException>(() => ConsensusSettings.FromConfig(config));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_key_names_its_path()
    {
        var error = Assert.Throws<ConfigurationException>(() =>
            ConsensusSettings.FromConfig(ConfigurationFactory.ParseString("idos.consensus { base-round-timeout = 1s }")));

        Assert.Contains("idos.consensus.max-round-timeout is missing", error.Message, StringComparison.Ordinal);
    }
}
