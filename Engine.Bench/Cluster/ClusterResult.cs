using System.Globalization;
using System.Text.Json.Serialization;

namespace IdOS.Akka.Engine.Bench.Cluster;

/// <summary>Submit-to-commit latency in milliseconds, from the clients' merged histogram.</summary>
internal sealed record LatencySummary(double Mean, double P50, double P90, double P99, double Max);

/// <summary>
/// One run's figures. Throughput, blocks and rounds come from validator 0's own counters over the measured window
/// (more than one round per block means rounds timed out);
/// latency and acknowledged commands from the clients. CPU is process time over the same window: the validators'
/// processes, the RPC system's (idOS workload) and this one (the clients), or this one alone in process.
/// </summary>
internal sealed record ClusterResult(
    ClusterSettings Settings,
    double ElapsedSeconds,
    long CommittedCommands,
    long CommittedBlocks,
    double CommandsPerSecond,
    double BlocksPerSecond,
    double CommandsPerBlock,
    double RoundsPerBlock,
    double PerSecondMin,
    double PerSecondMax,
    long AcknowledgedCommands,
    LatencySummary Latency,
    [property: JsonPropertyName("cpu_seconds_per_1000_commands")] double CpuSecondsPer1000Commands,
    double? ValidatorCpuSeconds,
    double? RpcCpuSeconds,
    double ClientCpuSeconds,
    double? MachineBusyPercent,
    long RefusedCommands,
    string? FirstRefusal,
    VerificationCeiling? VerificationCeiling = null);

/// <summary>The runs of each grid point across the passes of `--repeat`.</summary>
internal static class RepeatedRuns
{
    /// <summary>Each point's run with the median throughput (of an even count, the lower middle one), in the grid's order.</summary>
    public static List<ClusterResult> Medians(IEnumerable<ClusterResult> results) =>
        [.. results.GroupBy(r => r.Settings).Select(point =>
        {
            var ordered = point.OrderBy(r => r.CommandsPerSecond).ToList();
            return ordered[(ordered.Count - 1) / 2];
        })];

    /// <summary>One line per point: every run's throughput in run order, and the range of mean latency.</summary>
    public static IEnumerable<string> Spread(IEnumerable<ClusterResult> results) =>
        results.GroupBy(r => r.Settings).Select(point => string.Create(CultureInfo.InvariantCulture,
            $"block {point.Key.Batch}, payload {point.Key.Payload} B, {point.Key.Clients}×{point.Key.Outstanding}, {point.Key.Validators} validators: {point.Count()} runs, cmd/s " +
            $"{string.Join(" / ", point.Select(r => r.CommandsPerSecond.ToString("0", CultureInfo.InvariantCulture)))}, " +
            $"mean latency {point.Min(r => r.Latency.Mean):0.0}–{point.Max(r => r.Latency.Mean):0.0} ms"));
}
