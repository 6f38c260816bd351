using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Tests.Cluster;
using Xunit;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// The RPC system asks the validators over Akka.Remote without being a member of their cluster. A validator restarted
/// while it runs commits again, and when the validator the RPC system has been asking dies, its reads and writes go on
/// through the others.
/// </summary>
[Trait("Category", "Process")]
[Collection(SerialClusters.Name)]
public sealed class RpcFailoverProcessTests
{
    [Fact]
    public async Task A_restarted_validator_commits_again_and_requests_fail_over_when_the_asked_validator_dies()
    {
        // A 1 s retry gate (Akka's is 5 s) makes a dial to the killed validator's old incarnation more likely to be in
        // flight when it comes back, which is what used to leave it a link that Akka kept up and nobody read: with
        // 5 s that happened now and then, with 1 s in most runs, until the peer directory closed silent links.
        using var network = new TestNetwork(4, "akka.remote.retry-gate-closed-for = 1s", application: "idos");
        await using var nodes = new NodeProcesses(network);
        await using var rpc = await RpcProcessTests.StartWithRpc(nodes);

        nodes.Kill(3);
        await nodes.WaitForExit(3, TimeSpan.FromSeconds(30));
        nodes.Start(3);
        var height = (await nodes.Status(0))?.Height ?? 0;
        try
        {
            await Eventually.Holds(async () =>
            {
                var status = await nodes.Status(3);
                return (status is not null && status.Height > height && status.PeersConnected == 3, $"{status}");
            }, "the restarted validator to see its peers and commit past the height before its restart");
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw nodes.WithLogs(e);
        }

        // The gateway starts with the first validator and keeps to it while it answers: that one dies now.
        nodes.Kill(0);
        await nodes.WaitForExit(0, TimeSpan.FromSeconds(30));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(90) };
        var owner = IdosNetworkProcessTests.OwnerOf(network, out var ownerKey);
        using var disposeOwner = ownerKey;
        var account = await RpcProcessTests.Call(http, rpc.Endpoint, "user.account", RpcProcessTests.Account(owner));
        var nonce = (long)account["result"]!["nonce"]!;
        var written = await RpcProcessTests.Broadcast(http, rpc.Endpoint, owner.Execute(network.Chain.ChainId, (ulong)nonce + 1, "add_inserter_as_owner",
            [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("after-failover")]), sync: true);
        Assert.True((int?)written["result"]?["result"]?["code"] == 0, written.ToJsonString());
        var info = await RpcProcessTests.Call(http, rpc.Endpoint, "user.chain_info", new System.Text.Json.Nodes.JsonObject());
        Assert.Equal(network.Chain.ChainId, (string?)info["result"]?["chain_id"]);
    }
}
