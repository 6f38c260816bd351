using Akka.Configuration;
using IdOS.Akka.Engine.Gateway;
using IdOS.Akka.Engine.Network;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Rpc;

/// <summary>The RPC system's explorer settings: on unless private mode, which an operator may override either way.</summary>
[Trait("Category", "Unit")]
public sealed class RpcSettingsTests
{
    [Theory]
    [InlineData("", true)]
    [InlineData("mode = private", false)]
    [InlineData("mode = private\nexplorer = on", true)]
    [InlineData("explorer = off", false)]
    public void The_explorer_is_on_unless_private_mode_or_the_operator_says_otherwise(string lines, bool explorer)
    {
        Assert.Equal(explorer, Settings(lines).Explorer);
    }

    [Fact]
    public void Explorer_reads_have_a_per_address_budget_that_must_be_positive()
    {
        Assert.Equal((20, 40), Settings("").ExplorerLimit);
        Assert.Equal((5, 9), Settings("rate-limits { explorer-reads-per-second = 5, explorer-reads-burst = 9 }").ExplorerLimit);
        var refused = Assert.Throws<ConfigurationException>(() => Settings("rate-limits.explorer-reads-per-second = 0"));
        Assert.Contains("rate-limits.explorer-reads", refused.Message, StringComparison.Ordinal);
    }

    private static RpcSettings Settings(string lines) => RpcSettings.FromConfig(ConfigurationFactory.ParseString($$"""
        idos.rpc {
          validators = ["akka.tcp://idos@127.0.0.1:4701"]
          {{lines}}
        }
        """), transport: TransportSecurity.Insecure);
}
