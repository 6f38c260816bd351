using System.Globalization;
using System.Text.Json.Serialization;

namespace IdOS.Akka.Engine.Bench.Cluster;

/// <summary>Submit-to-commit latency in milliseconds, from the clients' merged histogram.</summary>
internal sealed record LatencySummary(double Mean, double P50, double P90, double P99, double Max);

/// <summary>
/// Where the clients' latency went (noop and opaque workloads), mean and p50 in milliseconds of each part: from a
/// command's submission to the proposal of the block that carries it (the mempool's wait and forwarding), from that
/// proposal to the commit at the client's validator (the rounds), and from there to the client (the commit feed).
/// The parts come from one machine's clock and are each within about a millisecond.
/// </summary>
internal sealed record LatencyPhases(
    double ToProposalMean,
    double ToProposalP50,
    double ProposalToCommitMean,
    double ProposalToCommitP50,
    double CommitToClientMean,
    double CommitToClientP50)
{
    public string Describe(double blocksPerSecond) => string.Create(CultureInfo.InvariantCulture,
        $"latency in parts, mean / p50 ms: submitted → in a proposed block {ToProposalMean:0.0} / {ToProposalP50:0.0}; " +
        $"proposed → committed at the client's validator {ProposalToCommitMean:0.0} / {ProposalToCommitP50:0.0} " +
        $"({ProposalToCommitMean * blocksPerSecond / 1000:0.0} blocks' time); → at the client {CommitToClientMean:0.0} / {CommitToClientP50:0.0}");
}

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
    VerificationCeiling? VerificationCeiling = null,
    LatencyPhases? Phases = null,
    double? MachineStolenPercent = null,
    MachineSpeed? Speed = null,
    FaultFigures? Fault = null);

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

    /// <summary>
    /// One line per point: every run's throughput in run order, the range of mean latency, and each run's speed index
    /// when the machine's speed was probed.
    /// </summary>
    public static IEnumerable<string> Spread(IEnumerable<ClusterResult> results) =>
        results.GroupBy(r => r.Settings).Select(point =>
        {
            var line = string.Create(CultureInfo.InvariantCulture,
                $"block {point.Key.Batch}, payload {point.Key.Payload} B, {point.Key.Clients}×{point.Key.Outstanding}, {point.Key.Validators} validators: {point.Count()} runs, cmd/s " +
                $"{string.Join(" / ", point.Select(r => r.CommandsPerSecond.ToString("0", CultureInfo.InvariantCulture)))}, " +
                $"mean latency {point.Min(r => r.Latency.Mean):0.0}–{point.Max(r => r.Latency.Mean):0.0} ms");
            return point.All(r => r.Speed is not null)
                ? line + ", speed index " + string.Join(" / ", point.Select(r => r.Speed!.Index.ToString("0.00", CultureInfo.InvariantCulture)))
                : line;
        });
}
