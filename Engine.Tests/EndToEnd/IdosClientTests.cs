using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Gateway;
using IdOS.Akka.Engine.Tests.Cluster;
using Xunit;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>The real npm client against a local network (the `Client` category).</summary>
[Trait("Category", "Client")]
[Collection(SerialClusters.Name)]
public sealed class IdosClientTests
{
    /// <summary>
    /// The unmodified idOS client library (@idos-network/kwil-js 0.1.3 from npm, Engine.Tests/client-js/idos-scenarios.mjs)
    /// against four validator processes through two RPC systems, one with KGW sessions and one in private mode: an
    /// ed25519 inserter onboards a user; the user's EVM wallet adds a wallet, an attribute and a credential; the
    /// inserter adds an attribute and a credential for the user; the user reads them back after the client's KGW
    /// login; a timelocked grant lets the grantee — and nobody else — read the shared copy, and the user's early
    /// revocation is refused; every transaction result is queried; private mode reads with a signed challenge.
    /// </summary>
    [Fact]
    public async Task The_real_idos_client_library_runs_the_idos_scenarios_through_the_rpc()
    {
        using var network = new TestNetwork(4, application: "idos");
        await using var nodes = new NodeProcesses(network);
        await using var rpc = await RpcProcessTests.StartWithRpc(nodes);
        await using var privateRpc = await RpcHost.Start(RpcProcessTests.Settings(nodes) with { PrivateMode = true });
        var ownerSeed = (string)JsonNode.Parse(await File.ReadAllTextAsync(network.OwnerKey))!["private_seed"]!;

        var (exitCode, output, errors) = await ClientScript.Run("idos-scenarios.mjs", rpc.Endpoint.GetLeftPart(UriPartial.Authority),
            privateRpc.Endpoint.GetLeftPart(UriPartial.Authority), ownerSeed);

        Assert.True(exitCode == 0, output + errors);
        var s = JsonNode.Parse(output.Trim().Split('\n')[^1])!;
        Assert.Equal((network.Chain.ChainId, "pong", "pong"), ((string?)s["chainId"], (string?)s["ping"], (string?)s["privatePing"]));

        var results = s["results"]!.AsObject();
        Assert.Equal(11, results.Count);
        Assert.All(results.Where(r => r.Key != "earlyRevoke"), r => Assert.True((int)r.Value!["code"]! == 0, $"{r.Key}: {r.Value}"));
        Assert.Equal(113, (int)results["earlyRevoke"]!["code"]!);
        Assert.Contains("locked", (string?)results["earlyRevoke"]!["log"], StringComparison.Ordinal);

        Assert.Equal(2, s["wallets"]!.AsArray().Count);
        Assert.Equal(["country=PT", "nickname=alice"], s["attributes"]!.AsArray().Select(a => $"{a!["attribute_key"]}={a["value"]}").Order(StringComparer.Ordinal));
        Assert.Equal(2, s["credentials"]!.AsArray().Count);
        Assert.Contains(s["credentials"]!.AsArray(), c => (string?)c!["id"] == (string?)s["credentialId"]);
        Assert.Empty(s["anonymousCredentials"]!.AsArray());

        var grant = Assert.Single(s["grants"]!.AsArray())!;
        Assert.Equal(((string?)s["copyId"], (string?)s["lockedUntil"]?.ToString()), ((string?)grant["data_id"], (string?)grant["locked_until"]));
        var shared = Assert.Single(s["shared"]!.AsArray())!;
        Assert.Equal(((string?)s["copyId"], (string?)s["copyContent"]), ((string?)shared["id"], (string?)shared["content"]));
        Assert.Empty(s["notShared"]!.AsArray());

        Assert.Equal(2, s["privateAttributes"]!.AsArray().Count);
        Assert.Equal((string?)s["userId"], (string?)Assert.Single(s["privateAsInserter"]!.AsArray())!["id"]);
    }
}
