using System.Globalization;
using System.Text;
using System.Text.Json;

namespace IdOS.Akka.Engine.Bench.Cluster;

/// <summary>
/// results.json (the environment and every run, nested as the records are) and results.csv (one flat row per run,
/// for spreadsheets and plotting tools). Rewritten after each run, so a sweep cut short keeps what it measured.
/// </summary>
internal static class ResultFiles
{
    public const string JsonFileName = "results.json";
    public const string CsvFileName = "results.csv";

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private static readonly string[] CsvColumns =
    [
        "date", "commit", "validators", "batch", "payload", "clients", "outstanding", "in_process", "workload", "warmup_s", "duration_s",
        "elapsed_s", "committed_commands", "committed_blocks", "commands_per_second", "blocks_per_second", "commands_per_block", "rounds_per_block",
        "per_second_min", "per_second_max", "acknowledged_commands", "latency_mean_ms", "latency_p50_ms", "latency_p90_ms",
        "latency_p99_ms", "latency_max_ms", "cpu_seconds_per_1000_commands", "validator_cpu_seconds", "rpc_cpu_seconds", "client_cpu_seconds",
        "machine_busy_percent", "refused_commands", "secp256k1_path", "verification_ceiling_tx_per_second",
        "to_proposal_mean_ms", "to_proposal_p50_ms", "proposal_to_commit_mean_ms", "proposal_to_commit_p50_ms", "commit_to_client_mean_ms",
        "commit_to_client_p50_ms", "machine_stolen_percent", "speed_verifications_per_second_before", "speed_verifications_per_second_after",
        "speed_index",
    ];

    public static string JsonPath(string directory) => Path.Combine(directory, JsonFileName);

    public static void Write(string directory, BenchEnvironment environment, IReadOnlyList<ClusterResult> results)
    {
        Directory.CreateDirectory(directory);
        var document = new ClusterResultsDocument("cluster", environment, results);
        File.WriteAllText(JsonPath(directory), JsonSerializer.Serialize(document, Json));

        var csv = new StringBuilder().AppendLine(string.Join(',', CsvColumns));
        foreach (var r in results)
        {
            var s = r.Settings;
            object?[] row =
            [
                environment.Date, environment.Commit, s.Validators, s.Batch, s.Payload, s.Clients, s.Outstanding, s.InProcess, s.Workload,
                s.WarmupSeconds, s.DurationSeconds, r.ElapsedSeconds, r.CommittedCommands, r.CommittedBlocks, r.CommandsPerSecond,
                r.BlocksPerSecond, r.CommandsPerBlock, r.RoundsPerBlock, r.PerSecondMin, r.PerSecondMax, r.AcknowledgedCommands, r.Latency.Mean, r.Latency.P50,
                r.Latency.P90, r.Latency.P99, r.Latency.Max, r.CpuSecondsPer1000Commands, r.ValidatorCpuSeconds, r.RpcCpuSeconds, r.ClientCpuSeconds,
                r.MachineBusyPercent, r.RefusedCommands, r.VerificationCeiling?.Secp256k1Path, r.VerificationCeiling?.CeilingTransactionsPerSecond,
                r.Phases?.ToProposalMean, r.Phases?.ToProposalP50, r.Phases?.ProposalToCommitMean, r.Phases?.ProposalToCommitP50,
                r.Phases?.CommitToClientMean, r.Phases?.CommitToClientP50, r.MachineStolenPercent, r.Speed?.VerificationsPerSecondBefore,
                r.Speed?.VerificationsPerSecondAfter, r.Speed?.Index,
            ];
            csv.AppendLine(string.Join(',', row.Select(Cell)));
        }

        File.WriteAllText(Path.Combine(directory, CsvFileName), csv.ToString());
    }

    private static string Cell(object? value) => value switch
    {
        null => "",
        double d => d.ToString("0.###", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        string text when text.Contains(',', StringComparison.Ordinal) || text.Contains('"', StringComparison.Ordinal) => "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

internal sealed record ClusterResultsDocument(string Benchmark, BenchEnvironment Environment, IReadOnlyList<ClusterResult> Runs);
