using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Gateway;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Rpc.Kwil;
using IdOS.Akka.Engine.Tests.Cluster;
using Xunit;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// The RPC system over real HTTP in front of four validator processes: chain info, accounts, a synchronous
/// broadcast that comes back with its execution result (success and an action's refusal), a refusal before the
/// mempool, and the transaction read back with user.tx_query.
/// </summary>
[Trait("Category", "Process")]
[Collection(SerialClusters.Name)]
public sealed class RpcProcessTests
{
    [Fact]
    public async Task Kwil_json_rpc_submits_idos_writes_to_the_validators_and_reads_their_results()
    {
        using var network = new TestNetwork(4, application: "idos");
        await using var nodes = new NodeProcesses(network);
        await using var rpc = await StartWithRpc(nodes);
        using var http = new HttpClient();
        var owner = IdosNetworkProcessTests.OwnerOf(network, out var ownerKey);
        using var disposeOwner = ownerKey;
        var stranger = KwilSigner.ForEvm(EvmKey.Generate());

        var info = await Call(http, rpc.Endpoint, "user.chain_info", new JsonObject());
        Assert.Equal(network.Chain.ChainId, (string?)info["result"]!["chain_id"]);

        var ownerNonce = (long)(await Call(http, rpc.Endpoint, "user.account", Account(owner)))["result"]!["nonce"]!;
        var registered = await Broadcast(http, rpc.Endpoint, owner.Execute(network.Chain.ChainId, (ulong)ownerNonce + 1, "add_inserter_as_owner",
            [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("rpc-issuer")]), sync: true);
        Assert.Equal(0, (int)registered["result"]!["result"]!["code"]!);

        var refused = await Broadcast(http, rpc.Endpoint, stranger.Execute(network.Chain.ChainId, 1, "add_inserter_as_owner",
            [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("not-allowed")]), sync: true);
        Assert.Equal(111, (int)refused["result"]!["result"]!["code"]!);
        Assert.Contains("network owner", (string?)refused["result"]!["result"]!["log"], StringComparison.Ordinal);

        var wrongChain = await Broadcast(http, rpc.Endpoint, stranger.Execute("elsewhere", 2, "get_user", []), sync: false);
        Assert.Equal((-201, 5), ((int)wrongChain["error"]!["code"]!, (int)wrongChain["error"]!["data"]!["code"]!));

        var query = await Call(http, rpc.Endpoint, "user.tx_query", new JsonObject { ["tx_hash"] = (string?)registered["result"]!["tx_hash"] });
        Assert.Equal("add_inserter_as_owner", (string?)query["result"]!["tx"]!["body"]!["desc"]);
        Assert.Equal(ownerNonce + 1, (long)(await Call(http, rpc.Endpoint, "user.account", Account(owner)))["result"]!["nonce"]!);
    }

    /// <summary>The four validators, once they see each other, and an RPC host in this process on a port the OS picks.</summary>
    internal static async Task<RpcHost> StartWithRpc(NodeProcesses nodes)
    {
        await IdosNetworkProcessTests.StartAll(nodes);
        return await RpcHost.Start(Settings(nodes));
    }

    /// <summary>An RPC system in front of these validators, listening on a loopback port the OS picks.</summary>
    internal static RpcSettings Settings(NodeProcesses nodes) =>
        new(new IPEndPoint(IPAddress.Loopback, 0), nodes.Addresses, 4 << 20, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5))
        {
            Transport = nodes.Network.Transport,
        };

    internal static JsonObject Account(KwilSigner signer) => new()
    {
        ["id"] = new JsonObject { ["identifier"] = Convert.ToHexStringLower(signer.Sender), ["key_type"] = KwilAuthenticator.AccountKeyType(signer.SignatureType) },
    };

    internal static Task<JsonNode> Broadcast(HttpClient http, Uri endpoint, byte[] transaction, bool sync)
    {
        var parameters = new JsonObject { ["tx"] = TransactionJson.Render(KwilTransaction.FromBytes(transaction)) };
        if (sync)
        {
            parameters["sync"] = 1;
        }

        return Call(http, endpoint, "user.broadcast", parameters);
    }

    internal static async Task<JsonNode> Call(HttpClient http, Uri endpoint, string method, JsonObject parameters)
    {
        var request = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = method, ["params"] = parameters };
        using var content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(endpoint, content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }
}
