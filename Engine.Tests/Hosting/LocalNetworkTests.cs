using Akka.Configuration;
using IdOS.Akka.Engine.Hosting;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Hosting;

[Trait("Category", "Unit")]
public sealed class LocalNetworkTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("idos-localnet-");

    private Config Node(int i, string genesis = "genesis.json") => ConfigurationFactory.ParseString($$"""
        idos.node.key-file = "{{Path.Combine(_dir.FullName, $"n{i}", "validator.key")}}"
        idos.node.genesis-file = "{{Path.Combine(_dir.FullName, genesis)}}"
        """);

    private string Owner => Path.Combine(_dir.FullName, "owner.key");

    [Fact]
    public void Keys_and_genesis_are_created_once_and_reused_on_the_next_start()
    {
        var first = LocalNetwork.Prepare([Node(1), Node(2), Node(3), Node(4)], "test-chain", Owner);
        var again = LocalNetwork.Prepare([Node(1), Node(2), Node(3), Node(4)], "test-chain", Owner);

        Assert.Equal(4, first.Validators.Count);
        Assert.Equal(first.GenesisBlock.Id, again.GenesisBlock.Id);
        Assert.Equal(first.Validators[2], KeyFiles.ReadPublic(Node(3).GetString("idos.node.key-file")));
        Assert.Equal(KeyFiles.ReadPublic(Owner).ToString(), again.DatabaseOwner);
    }

    [Fact]
    public void A_genesis_made_for_another_owner_is_refused()
    {
        LocalNetwork.Prepare([Node(1), Node(2)], "test-chain", Owner);
        File.Delete(Owner);
        File.Delete(Owner + ".pub");

        Assert.Throws<NodeFileException>(() => LocalNetwork.Prepare([Node(1), Node(2)], "test-chain", Owner));
    }

    [Fact]
    public void A_genesis_made_for_other_keys_is_refused_with_the_way_out()
    {
        LocalNetwork.Prepare([Node(1), Node(2), Node(3), Node(4)], "test-chain", Owner);
        File.Delete(Node(4).GetString("idos.node.key-file"));
        File.Delete(Node(4).GetString("idos.node.key-file") + ".pub");

        var refused = Assert.Throws<NodeFileException>(() => LocalNetwork.Prepare([Node(1), Node(2), Node(3), Node(4)], "test-chain", Owner));

        Assert.Contains("remove the network's data folder", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nodes_naming_different_genesis_files_are_refused() =>
        Assert.Throws<ConfigurationException>(() => LocalNetwork.Prepare([Node(1), Node(2, "other.json")], "test-chain", Owner));

    public void Dispose() => _dir.Delete(recursive: true);
}
