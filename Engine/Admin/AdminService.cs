using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using IdOS.Akka.Engine.Actors;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Rpc.JsonRpc;

namespace IdOS.Akka.Engine.Admin;

/// <summary>
/// The operator's JSON-RPC on a validator, served on a loopback-only listener of its own (idos.node.admin.listen), as
/// kwild's admin service is: `admin.status` (heights, round and leader, epoch, health, mempool, execution lag,
/// versions), `admin.peers` (each peer with how long ago it was last heard from) and `admin.validators` (every set so
/// far). It reads; nothing here changes the node.
/// </summary>
public sealed class AdminService(IActorRef consensus, IActorRef directory, TimeSpan timeout)
{
    public static string Version { get; } =
        typeof(AdminService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";

    public IReadOnlyDictionary<string, RpcMethod> Methods => new Dictionary<string, RpcMethod>(StringComparer.Ordinal)
    {
        ["admin.status"] = Status,
        ["admin.peers"] = Peers,
        ["admin.validators"] = Validators,
    };

    private async Task<JsonNode> Status(JsonElement parameters, RequestContext context, CancellationToken cancel)
    {
        var status = await Ask<NodeStatus>(consensus, StatusQuery.Instance, cancel);
        return new JsonObject
        {
            ["chain_id"] = status.ChainId,
            ["validator"] = status.Validator,
            ["height"] = status.Height,
            ["network_height"] = status.NetworkHeight,
            ["round"] = status.Round,
            ["leader"] = status.Leader,
            ["epoch"] = status.Epoch,
            ["validators"] = status.SetSize,
            ["voting"] = status.Voting,
            ["healthy"] = status.Unhealthy.Length == 0,
            ["reason"] = status.Unhealthy,
            ["syncing"] = status.Syncing,
            ["executed_height"] = status.ExecutedHeight,
            ["execution_lag"] = Math.Max(0, status.Height - status.ExecutedHeight),
            ["mempool"] = status.PendingTransactions,
            ["peers"] = status.PeersConnected,
            ["committed_transactions"] = status.CommittedTransactions,
            ["app_hash"] = status.AppHash.ToString(),
            ["last_block_id"] = status.LastBlockId.ToString(),
            ["last_block_time_ms"] = status.LastBlockTimestampMs,
            ["rejected_messages"] = status.RejectedMessages,
            ["last_rejection"] = status.LastRejection,
            ["version"] = Version,
            ["runtime"] = RuntimeInformation.FrameworkDescription,
        };
    }

    private async Task<JsonNode> Peers(JsonElement parameters, RequestContext context, CancellationToken cancel)
    {
        var reply = await Ask<PeerDirectory.PeersReply>(directory, new PeerDirectory.PeersQuery(), cancel);
        return new JsonObject
        {
            ["peers"] = new JsonArray([.. reply.Peers.Select(peer => (JsonNode)new JsonObject
            {
                ["validator"] = peer.Number,
                ["key"] = peer.Key.ToString(),
                ["address"] = peer.Address,
                ["last_heard_ms_ago"] = peer.LastHeardMsAgo,
                ["in_set"] = peer.InSet,
            })]),
        };
    }

    private async Task<JsonNode> Validators(JsonElement parameters, RequestContext context, CancellationToken cancel)
    {
        var reply = await Ask<ConsensusActor.EpochsReply>(consensus, new ConsensusActor.EpochsQuery(), cancel);
        return new JsonObject
        {
            ["epochs"] = new JsonArray([.. reply.Epochs.Select(epoch => (JsonNode)new JsonObject
            {
                ["epoch"] = epoch.Epoch,
                ["start_height"] = epoch.StartHeight,
                ["decided_height"] = epoch.DecidedHeight,
                ["set_hash"] = epoch.Validators.Hash.ToString(),
                ["validators"] = new JsonArray([.. Enumerable.Range(0, epoch.Validators.Count).Select(i => (JsonNode)new JsonObject
                {
                    ["index"] = i,
                    ["key"] = epoch.Validators[i].ToString(),
                    ["address"] = epoch.Contacts.TryGetValue(epoch.Validators[i], out var contact) ? contact.Address : "",
                })]),
            })]),
        };
    }

    private async Task<T> Ask<T>(IActorRef actor, object question, CancellationToken cancel)
    {
        try
        {
            return await actor.Ask<T>(question, timeout, cancel);
        }
        catch (AskTimeoutException)
        {
            throw new RpcException(RpcErrorCode.Unavailable, $"the node did not answer within {timeout.TotalSeconds} s");
        }
    }
}
