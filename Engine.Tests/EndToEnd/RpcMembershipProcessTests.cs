using System.Diagnostics;
using Akka.Cluster;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Storage.Transactions;
using IdOS.Akka.Engine.Tests.Cluster;
using Xunit;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// The RPC system is a member of the validators' cluster with the role `rpc`. A crashed one (kill -9) must not hold
/// the cluster back: the validators down it, and a validator restarted afterwards becomes a member again and commits.
/// When the validator the RPC system has been asking dies, its reads and writes go on through the others.
/// </summary>
[Trait("Category", "Process")]
[Collection(SerialClusters.Name)]
public sealed class RpcMembershipProcessTests
{
    [Fact]
    public async Task An_rpc_member_that_crashes_is_downed_a_restarted_validator_still_joins_and_requests_fail_over()
    {
        using var network = new TestNetwork(4, overrides: "idos.node.down-unreachable-clients-after = 5s", application: "idos");
        await using var nodes = new NodeProcesses(network);
        await using var rpc = await RpcProcessTests.StartWithRpc(nodes);
        await Eventually.Holds(() => Members(rpc, m => m.Status == MemberStatus.Up && m.Address == rpc.ClusterAddress && m.HasRole(RpcHost.Role)),
            "this RPC system to be admitted as an Up member with the rpc role");

        var configPath = Path.Combine(network.Root, "rpc.conf");
        await File.WriteAllTextAsync(configPath, $$"""
            idos.rpc {
              listen = "127.0.0.1:0"
              validators = [{{string.Join(", ", nodes.Addresses.Select(a => $"\"{a}\""))}}]
              genesis-file = "{{Path.Combine(network.Root, "genesis.json")}}"
              tls.certificate-file = "{{network.RpcCertificate}}"
            }
            """);
        var crashingLog = new System.Text.StringBuilder();
        using var crashing = StartRpcProcess(configPath, crashingLog);
        try
        {
            await Eventually.Holds(() => Members(rpc, m => m.Status == MemberStatus.Up && m.HasRole(RpcHost.Role) && m.Address != rpc.ClusterAddress),
                "the second RPC system (a process) to become an Up member");
            var crashed = rpc.ClusterState.Members.Single(m => m.HasRole(RpcHost.Role) && m.Address != rpc.ClusterAddress).Address;
            crashing.Kill();

            await Eventually.Holds(() => Task.FromResult((rpc.ClusterState.Members.All(m => m.Address != crashed),
                    Describe(rpc) + Tail(crashingLog) + "; validator 0 printed: " + nodes.Log(0))),
                "the validators to down the crashed RPC member and remove it");
        }
        finally
        {
            if (!crashing.HasExited)
            {
                crashing.Kill();
            }
        }

        var before = rpc.ClusterState.Members.Single(m => m.Address == nodes.Addresses[3]).UniqueAddress;
        nodes.Kill(3);
        await nodes.WaitForExit(3, TimeSpan.FromSeconds(30));
        nodes.Start(3);
        await Eventually.Holds(() => Members(rpc, m => m.Address == nodes.Addresses[3] && m.UniqueAddress != before && m.Status == MemberStatus.Up),
            "the restarted validator to become an Up member again");
        var height = (await nodes.Status(0))?.Height ?? 0;
        await Eventually.Holds(async () =>
        {
            var status = await nodes.Status(3);
            return (status is not null && status.Height > height && status.PeersConnected == 3, $"{status}");
        }, "the restarted validator to see its peers and commit past the height before its restart");

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

    private static Task<(bool, string)> Members(RpcHost rpc, Func<Member, bool> condition) =>
        Task.FromResult((rpc.ClusterState.Members.Any(condition), Describe(rpc)));

    private static string Describe(RpcHost rpc) =>
        string.Join("; ", rpc.ClusterState.Members.Select(m => $"{m.Address} {m.Status} [{string.Join(",", m.Roles)}]"))
        + $"; unreachable: {string.Join(", ", rpc.ClusterState.Unreachable.Select(m => m.Address))}";

    private static string Tail(System.Text.StringBuilder log)
    {
        lock (log)
        {
            var text = log.ToString();
            return "; the killed RPC process printed: " + (text.Length > 3_000 ? "..." + text[^3_000..] : text);
        }
    }

    private static Process StartRpcProcess(string configPath, System.Text.StringBuilder log)
    {
        var info = new ProcessStartInfo(NodeProcesses.Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("rpc");
        info.ArgumentList.Add("--config");
        info.ArgumentList.Add(configPath);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the node executable");
        void Append(string? line)
        {
            lock (log)
            {
                log.AppendLine(line);
            }
        }

        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
