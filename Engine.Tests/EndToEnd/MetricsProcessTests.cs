using System.Net;
using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Cli.Localnet;
using IdOS.Akka.Engine.Tests.Cluster;
using IdOS.Akka.Engine.Tests.Observability;
using Xunit;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// What an operator's Prometheus and load balancer see of four validator processes and an RPC system: the metrics
/// parse as the text format and rise under an idOS load; `/health` on a node and on the RPC system, `user.health`
/// and `status` are healthy while a quorum is connected, and say why not once two of four are killed.
/// </summary>
[Trait("Category", "Process")]
[Collection(SerialClusters.Name)]
public sealed class MetricsProcessTests
{
    [Fact]
    public async Task Metrics_rise_under_load_and_health_follows_the_quorum_on_nodes_and_the_rpc_system()
    {
        using var network = new TestNetwork(4, "idos.consensus.idle-interval = 100ms", application: "idos");
        await using var nodes = new NodeProcesses(network);
        await IdosNetworkProcessTests.StartAll(nodes);
        await using var rpc = await Gateway.RpcHost.Start(RpcProcessTests.Settings(nodes) with { MetricsListen = new IPEndPoint(IPAddress.Loopback, 0) });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var node0 = network.MetricsEndpoints[0];
        var rpcHealth = new Uri(rpc.Endpoint, "/health");
        await Holds(nodes, async () =>
        {
            var codes = await Task.WhenAll(network.MetricsEndpoints.Select(e => Health(http, e)).Append(Health(http, rpc.Endpoint)));
            return (codes.All(c => c.Code == HttpStatusCode.OK), string.Join("; ", codes.Select(c => $"{c.Code} {c.Body}")));
        }, "every node and the RPC system to be healthy");

        var before = PrometheusText.Parse(await http.GetStringAsync(new Uri(node0, "metrics")));
        var owner = IdosNetworkProcessTests.OwnerOf(network, out var ownerKey);
        using var disposeOwner = ownerKey;
        using var writers = await IdosLoad.Prepare(new TransactionDriver(nodes.Client, nodes.Addresses, network.Chain.ChainId), owner, 4, 3);
        await IdosNetworkProcessTests.Write(nodes, writers, 3);
        PrometheusText after = before;
        await Holds(nodes, async () =>
        {
            after = PrometheusText.Parse(await http.GetStringAsync(new Uri(node0, "metrics")));
            var committed = after.Value("idos_consensus_transactions_committed_total") - before.Value("idos_consensus_transactions_committed_total");
            return (committed >= 120, $"{committed} transactions committed since the first scrape");
        }, "the committed-transactions counter to rise by the load");

        Assert.True(after.Value("idos_consensus_height") > before.Value("idos_consensus_height"));
        Assert.True(after.Value("idos_consensus_blocks_committed_total") > before.Value("idos_consensus_blocks_committed_total"));
        Assert.True(after.Value("idos_consensus_commit_latency_seconds_count") > before.Value("idos_consensus_commit_latency_seconds_count"));
        Assert.True(after.Value("idos_execution_block_seconds_count") > before.Value("idos_execution_block_seconds_count"));
        Assert.True(after.Value("idos_journal_write_seconds_count") > before.Value("idos_journal_write_seconds_count"));
        Assert.True(after.Value("idos_network_messages_received_total", ("kind", "vote")) + after.Value("idos_network_messages_received_total", ("kind", "proposal"))
            > before.Value("idos_network_messages_received_total", ("kind", "vote")) + before.Value("idos_network_messages_received_total", ("kind", "proposal")));
        Assert.Equal(3, after.Value("idos_peers_connected"));
        Assert.Equal(1, after.Value("idos_node_healthy"));
        var user = await RpcProcessTests.Call(http, rpc.Endpoint, "user.health", []);
        Assert.True((bool)user["result"]!["healthy"]!, user.ToJsonString());
        var rpcMetrics = PrometheusText.Parse(await http.GetStringAsync(new Uri(rpc.MetricsAddress!, "metrics")));
        Assert.True(rpcMetrics.Value("idos_rpc_requests_total", ("method", "user.health"), ("code", "0")) >= 1);
        Assert.True(rpcMetrics.Value("idos_rpc_request_duration_seconds_count", ("method", "user.health")) >= 1);
        Assert.Equal("histogram", rpcMetrics.TypeOf("idos_rpc_read_batch_reads"));
        Assert.Equal(0, rpcMetrics.Value("idos_rpc_sessions"));
        var (code, report) = await Status("--node", network.AdminListeners[0]);
        Assert.True(code == 0, report);
        Assert.Contains("health: healthy", report, StringComparison.Ordinal);
        Assert.Contains("peers (3):", report, StringComparison.Ordinal);
        Assert.Matches("leader [0-3]", report);
        Assert.Contains("epoch 0 from height 1: 4 validators", report, StringComparison.Ordinal);
        var (rpcCode, rpcReport) = await Status("--rpc", rpc.Endpoint.GetLeftPart(UriPartial.Authority));
        Assert.True(rpcCode == 0, rpcReport);
        Assert.Contains("health: healthy", rpcReport, StringComparison.Ordinal);

        // Two of four gone: the survivors are connected to one peer, not a quorum.
        nodes.Kill(3);
        nodes.Kill(2);
        (HttpStatusCode Code, string Body) unhealthy = (HttpStatusCode.OK, "");
        await Holds(nodes, async () =>
        {
            unhealthy = await Health(http, node0);
            return (unhealthy.Code == HttpStatusCode.ServiceUnavailable, unhealthy.Body);
        }, "node 0's health to fail without a quorum");
        Assert.Contains("a quorum of the 4 needs 2 besides this one", (string)JsonNode.Parse(unhealthy.Body)!["reason"]!, StringComparison.Ordinal);
        await Holds(nodes, async () =>
        {
            var answer = await Health(http, rpcHealth);
            return (answer.Code == HttpStatusCode.ServiceUnavailable && answer.Body.Contains("quorum", StringComparison.Ordinal), answer.Body);
        }, "the RPC system's health to fail with the validator's reason");
        var userUnhealthy = await RpcProcessTests.Call(http, rpc.Endpoint, "user.health", []);
        Assert.False((bool)userUnhealthy["result"]!["healthy"]!, userUnhealthy.ToJsonString());
        var (_, unhealthyReport) = await Status("--node", network.AdminListeners[0]);
        Assert.Contains("health: UNHEALTHY: connected to 1 validator(s)", unhealthyReport, StringComparison.Ordinal);
        Assert.Equal(1, (await Status("--node", network.AdminListeners[3])).Code);

        nodes.Start(2);
        await Holds(nodes, async () =>
        {
            var answer = await Health(http, node0);
            return (answer.Code == HttpStatusCode.OK, answer.Body);
        }, "node 0's health to return once a quorum is back");
    }

    /// <summary>
    /// A node alone with an empty data folder waits for its peers' snapshot offers before consensus starts (20 s); its
    /// health check answers meanwhile, and says why it is not serving.
    /// </summary>
    [Fact]
    public async Task A_node_waiting_for_its_peers_snapshots_answers_health_with_the_reason()
    {
        using var network = new TestNetwork(4, application: "idos");
        await using var nodes = new NodeProcesses(network);
        nodes.Start(0);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var reason = "";
        await Holds(nodes, async () =>
        {
            try
            {
                var (code, body) = await Health(http, network.MetricsEndpoints[0]);
                reason = code == HttpStatusCode.ServiceUnavailable ? (string?)JsonNode.Parse(body)!["reason"] ?? "" : body;
                return (code == HttpStatusCode.ServiceUnavailable, $"{code} {body}");
            }
            catch (HttpRequestException e)
            {
                return (false, e.Message);
            }
        }, "the starting node's health check to answer 503");
        Assert.Contains("state sync from the peers' snapshot is in progress", reason, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Output)> Status(params string[] args)
    {
        using var output = new StringWriter();
        var code = await Engine.Cli.StatusCommand.Run(args, output);
        return (code, output.ToString());
    }

    private static async Task<(HttpStatusCode Code, string Body)> Health(HttpClient http, Uri endpoint)
    {
        using var response = await http.GetAsync(new Uri(endpoint, "/health"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task Holds(NodeProcesses nodes, Func<Task<(bool Done, string Observed)>> condition, string what)
    {
        try
        {
            await Eventually.Holds(condition, what, TimeSpan.FromSeconds(90));
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw nodes.WithLogs(e);
        }
    }
}
