using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Observability;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Observability;

/// <summary>What a node exports reads back with a strict parser of the text format, under Prometheus's naming conventions.</summary>
[Trait("Category", "Unit")]
public sealed class NodeMetricsTests
{
    private static readonly NodeStatus Status = new(1, 120, 130, Hash32.Zero, 5_000, 17, 3, 2, "", "test-chain", Hash32.Zero, 0, 9, 4_096, 7, 115, 6)
    {
        Epoch = 1,
        SetSize = 5,
        Voting = true,
        NetworkHeight = 122,
    };

    [Fact]
    public async Task A_status_and_counted_events_export_as_idos_families_in_base_units_with_total_on_counters()
    {
        var metrics = new NodeMetrics();
        metrics.Observe(Status, new ReplicaCounters { TimeoutsWithoutProposal = 2, TimeoutsJoined = 1 }, signatureCacheHits: 40, leaderWeights: [10_000, 100, 1, 10_000, 10_000]);
        metrics.Received(new EpochEndRequest(3));
        metrics.Sent(new EpochEndRequest(3), peers: 3);
        metrics.Refused("full");
        metrics.CommitLatency.Observe(0.25);
        var text = PrometheusText.Parse(await Export(metrics));

        Assert.Equal(120, text.Value("idos_consensus_height"));
        Assert.Equal(122, text.Value("idos_consensus_network_height"));
        Assert.Equal(5, text.Value("idos_execution_lag_blocks"));
        Assert.Equal(1, text.Value("idos_node_healthy"));
        Assert.Equal(5_000, text.Value("idos_consensus_transactions_committed_total"));
        Assert.Equal(2, text.Value("idos_consensus_timeouts_total", ("cause", "no_proposal")));
        Assert.Equal(1, text.Value("idos_consensus_timeouts_total", ("cause", "joined")));
        Assert.Equal(1, text.Value("idos_network_messages_received_total", ("kind", "epoch_end_request")));
        Assert.Equal(3, text.Value("idos_network_messages_sent_total", ("kind", "epoch_end_request")));
        Assert.Equal(1, text.Value("idos_mempool_refused_total", ("reason", "full")));
        Assert.Equal(1, text.Value("idos_consensus_commit_latency_seconds_count"));
        Assert.Equal(1, text.Value("idos_consensus_commit_latency_seconds_bucket", ("le", "0.512")));
        Assert.Equal("histogram", text.TypeOf("idos_consensus_commit_latency_seconds"));
        Assert.Equal(100, text.Value("idos_consensus_leader_weight", ("validator", "1")));

        var families = text.Samples.Keys.Select(k => k.Split('{')[0]).Distinct().ToList();
        Assert.All(families, f => Assert.StartsWith("idos_", f, StringComparison.Ordinal));
        Assert.All(families.Where(f => text.TypeOf(f) == "counter"), f => Assert.EndsWith("_total", f, StringComparison.Ordinal));

        // Counters copied from a status only rise, and an unhealthy status says so.
        metrics.Observe(Status with { CommittedTransactions = 5_100, Unhealthy = "too few peers" }, null, 41);
        var later = PrometheusText.Parse(await Export(metrics));
        Assert.Equal(5_100, later.Value("idos_consensus_transactions_committed_total"));
        Assert.Equal(0, later.Value("idos_node_healthy"));
    }

    [Theory]
    [InlineData("x_total 1\n", "no TYPE line")]
    [InlineData("# TYPE x counter\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n", "the same sample twice")]
    [InlineData("# TYPE x counter\nx{a=\"\\q\"} 1\n", "unknown escape")]
    [InlineData("# TYPE x counter\nx{a=\"1\" 1\n", "expected")]
    [InlineData("# TYPE 1x counter\n", "not a metric")]
    public void The_parser_refuses_what_a_scraper_would(string text, string reason)
    {
        var e = Assert.Throws<FormatException>(() => PrometheusText.Parse(text));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Health_needs_a_quorum_of_the_set_and_the_networks_head_within_reach()
    {
        var health = new NodeHealth(MaxBlocksBehind: 10);

        Assert.Null(health.Problem(peersConnected: 2, setSize: 4, voting: true, height: 100, networkHeight: 110));
        Assert.Contains("needs 3", health.Problem(2, 4, voting: false, 100, 100), StringComparison.Ordinal);
        Assert.Contains("needs 2 besides this one", health.Problem(1, 4, voting: true, 100, 100), StringComparison.Ordinal);
        Assert.Contains("11 blocks behind", health.Problem(3, 4, true, 100, 111), StringComparison.Ordinal);
        Assert.True(health.IsSyncing(100, 111));
    }

    [Fact]
    public void The_networks_head_is_the_height_f_plus_1_peers_reached_so_f_liars_cannot_raise_it()
    {
        var head = new NetworkHead();
        var peers = Enumerable.Range(0, 4).Select(i => Engine.Simulation.SimWorld.ValidatorKey(i).PublicKey).ToList();

        head.Claim(peers[0], 1_000_000, oneHonest: 2);
        Assert.Equal(0, head.Height);
        head.Claim(peers[1], 50, oneHonest: 2);
        head.Claim(peers[2], 52, oneHonest: 2);
        Assert.Equal(52, head.Height);
        head.Claim(peers[2], 40, oneHonest: 2);
        Assert.Equal(52, head.Height);
    }

    private static async Task<string> Export(NodeMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
