using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Tests.Cluster;
using Xunit;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>The real npm client against a local network (TESTING.md's `Client` category).</summary>
[Trait("Category", "Client")]
[Collection(SerialClusters.Name)]
public sealed class IdosClientTests
{
    /// <summary>
    /// The unmodified idOS client library (@idos-network/kwil-js 0.1.3 from npm, Engine.Tests/client-js) learns the
    /// chain id, executes idOS actions synchronously as an ed25519 owner and as an EVM inserter, reads a transaction
    /// back, calls a view anonymously and one as the inserter after the KGW login it performs on the node's -901 —
    /// against four validator processes through this RPC.
    /// </summary>
    [Fact]
    public async Task The_real_idos_client_library_executes_idos_writes_through_the_rpc()
    {
        using var network = new TestNetwork(4, application: "idos");
        await using var nodes = new NodeProcesses(network);
        await using var rpc = await RpcProcessTests.StartWithRpc(nodes);
        var ownerSeed = (string)JsonNode.Parse(await File.ReadAllTextAsync(network.OwnerKey))!["private_seed"]!;

        var (exitCode, output, errors) = await ClientScript.Run("write-path.mjs", rpc.Endpoint.GetLeftPart(UriPartial.Authority), ownerSeed);

        Assert.True(exitCode == 0, output + errors);
        var summary = JsonNode.Parse(output.Trim().Split('\n')[^1])!;
        Assert.Equal(network.Chain.ChainId, (string?)summary["chainId"]);
        Assert.Equal(0, (int)summary["txCode"]!);
        Assert.Equal(3, summary["hashes"]!.AsArray().Count);
        Assert.False((bool)summary["profile"]![0]!["has_profile"]!);
        var row = Assert.Single(summary["asInserter"]!.AsArray())!;
        Assert.Equal(((string?)summary["user"], "recipient-key"), ((string?)row["id"], (string?)row["recipient_encryption_public_key"]));
    }
}
