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
