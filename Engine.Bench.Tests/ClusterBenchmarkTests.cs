using System.Text.Json;
using IdOS.Akka.Engine.Bench.Cluster;
using IdOS.Akka.Engine.Cli;
using Xunit;

namespace IdOS.Akka.Engine.Bench.Tests;

public sealed class ClusterBenchmarkTests : IDisposable
{
    private readonly string _output = Directory.CreateTempSubdirectory("idos-cluster-bench-test-").FullName;

    public void Dispose() => Directory.Delete(_output, recursive: true);

    [Fact]
    [Trait("Category", "Cluster")]
    public async Task A_short_run_with_four_validators_in_process_writes_well_formed_results_that_count_committed_commands()
    {
        using var printed = new StringWriter();

        var exit = await ClusterBenchmark.Run(
            ["--validators", "4", "--in-process", "--batch", "100", "--clients", "2", "--outstanding", "200", "--warmup", "1", "--duration", "3", "--speed-probe", "1", "--out", _output],
            printed);

        Assert.True(exit == 0, printed.ToString());
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_output, ResultFiles.JsonFileName)));
        Assert.Equal("cluster", json.RootElement.GetProperty("benchmark").GetString());
        Assert.Equal(Environment.ProcessorCount, json.RootElement.GetProperty("environment").GetProperty("cores").GetInt32());
        var run = Assert.Single(json.RootElement.GetProperty("runs").EnumerateArray());
        var settings = run.GetProperty("settings");
        Assert.Equal(4, settings.GetProperty("validators").GetInt32());
        Assert.Equal(100, settings.GetProperty("batch").GetInt32());
        Assert.True(settings.GetProperty("in_process").GetBoolean());

        var committed = run.GetProperty("committed_commands").GetInt64();
        var blocks = run.GetProperty("committed_blocks").GetInt64();
        Assert.True(committed > 0, printed.ToString());
        Assert.True(blocks > 0);
        Assert.True(committed <= blocks * 100, "no block holds more commands than the block size");
        Assert.True(run.GetProperty("rounds_per_block").GetDouble() >= 1, "a block takes at least one round");
        Assert.True(run.GetProperty("acknowledged_commands").GetInt64() > 0, "the clients saw their own commands commit");
        Assert.Equal(0, run.GetProperty("refused_commands").GetInt64());
        var latency = run.GetProperty("latency");
        Assert.True(latency.GetProperty("p50").GetDouble() > 0);
        Assert.True(latency.GetProperty("p50").GetDouble() <= latency.GetProperty("p99").GetDouble());
        Assert.True(latency.GetProperty("p99").GetDouble() <= latency.GetProperty("max").GetDouble());
        Assert.True(run.GetProperty("cpu_seconds_per_1000_commands").GetDouble() > 0);

        // Each command's three parts add up to its latency exactly, except that a part below zero (the proposal time
        // is whole milliseconds) counts as zero: the means differ by at most that rounding.
        var phases = run.GetProperty("phases");
        double[] means = [phases.GetProperty("to_proposal_mean").GetDouble(), phases.GetProperty("proposal_to_commit_mean").GetDouble(),
            phases.GetProperty("commit_to_client_mean").GetDouble()];
        Assert.All(means, part => Assert.True(part >= 0));
        Assert.InRange(means.Sum(), latency.GetProperty("mean").GetDouble() * 0.99, (latency.GetProperty("mean").GetDouble() * 1.01) + 1.0);
        Assert.Contains("latency in parts", printed.ToString(), StringComparison.Ordinal);

        var speed = run.GetProperty("speed");
        Assert.Equal(Environment.ProcessorCount, speed.GetProperty("threads").GetInt32());
        Assert.True(speed.GetProperty("verifications_per_second_before").GetDouble() > 0);
        Assert.True(speed.GetProperty("verifications_per_second_after").GetDouble() > 0);
        Assert.Contains("machine speed:", printed.ToString(), StringComparison.Ordinal);

        var csv = await File.ReadAllLinesAsync(Path.Combine(_output, ResultFiles.CsvFileName));
        Assert.Equal(2, csv.Length);
        var header = csv[0].Split(',');
        var row = csv[1].Split(',');
        Assert.Equal(header.Length, row.Length);
        Assert.Equal(committed.ToString(System.Globalization.CultureInfo.InvariantCulture), row[Array.IndexOf(header, "committed_commands")]);
        Assert.Contains("| 4 | 100 | 2×200 |", printed.ToString(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Users with registered wallets sign idOS writes and broadcast them through the RPC system; every one of them
    /// must execute with code 0 (a refusal or failed execution is counted, and fails this test).
    /// </summary>
    [Fact]
    [Trait("Category", "Cluster")]
    public async Task A_short_idos_run_sends_signed_writes_through_the_rpc_system_and_every_one_executes()
    {
        using var printed = new StringWriter();

        var exit = await ClusterBenchmark.Run(
            ["--workload", "idos", "--validators", "4", "--in-process", "--clients", "2", "--outstanding", "10", "--warmup", "2", "--duration", "4", "--out", _output],
            printed);

        Assert.True(exit == 0, printed.ToString());
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_output, ResultFiles.JsonFileName)));
        var run = Assert.Single(json.RootElement.GetProperty("runs").EnumerateArray());
        Assert.Equal("idos", run.GetProperty("settings").GetProperty("workload").GetString());
        Assert.True(run.GetProperty("committed_commands").GetInt64() > 0, printed.ToString());
        Assert.True(run.GetProperty("acknowledged_commands").GetInt64() > 0, "users got their executed results back through the RPC system");
        Assert.True(run.GetProperty("acknowledged_commands").GetInt64() <= run.GetProperty("committed_commands").GetInt64() + 20,
            "no more answers than committed writes, give or take the writes in flight as the window closed");
        Assert.Equal(0, run.GetProperty("refused_commands").GetInt64());
        Assert.Equal(JsonValueKind.Null, run.GetProperty("rpc_cpu_seconds").ValueKind);
        Assert.Equal(JsonValueKind.Null, run.GetProperty("phases").ValueKind);
        var ceiling = run.GetProperty("verification_ceiling");
        Assert.True(ceiling.GetProperty("checks_per_second").GetDouble() > 0);
        Assert.Equal(ceiling.GetProperty("checks_per_second").GetDouble() / 5, ceiling.GetProperty("ceiling_transactions_per_second").GetDouble(), 6);
        Assert.True(ceiling.GetProperty("secp256k1_path").GetString() is "libsecp256k1" or "BouncyCastle");
        Assert.Contains("verification ceiling:", printed.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void A_sweep_runs_every_combination_of_its_values_over_the_other_options()
    {
        var command = ClusterCommand.Parse(["--clients", "4", "--sweep", "batch=1,400", "validators=4,7,10", "--duration", "10"]);

        Assert.True(command.IsSweep);
        Assert.Equal(6, command.Runs.Count);
        Assert.Equal(
            [(1, 4), (1, 7), (1, 10), (400, 4), (400, 7), (400, 10)],
            command.Runs.Select(r => (r.Batch, r.Validators)));
        Assert.All(command.Runs, r => Assert.Equal((4, 10), (r.Clients, r.DurationSeconds)));
        Assert.Single(ClusterCommand.Parse(["--sweep", "batch=100 "]).Runs);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void Repeats_run_the_whole_grid_pass_after_pass_and_report_each_points_median_run()
    {
        var command = ClusterCommand.Parse(["--repeat", "3", "--sweep", "batch=1,400"]);

        Assert.Equal(3, command.Repeat);
        Assert.Equal([1, 400, 1, 400, 1, 400], command.Runs.Select(r => r.Batch));

        // Block 400's runs had the machine's speed probed (before and after each, averaged into the index); block 1's did not.
        var speeds = new Queue<double>([0.8, 1.0, 1.2, 1.1, 1.0, 1.0]);
        var runs = new[] { (1, 150.0, 30.0), (400, 30_000.0, 60.0), (1, 190.0, 20.0), (400, 40_000.0, 45.0), (1, 170.0, 25.0), (400, 20_000.0, 90.0) }
            .Select(p => Result(4, p.Item1, p.Item2, p.Item3) with
            {
                Speed = p.Item1 == 1 ? null
                    : new MachineSpeed(2, speeds.Dequeue() * MachineSpeed.ReferenceVerificationsPerSecond, speeds.Dequeue() * MachineSpeed.ReferenceVerificationsPerSecond),
            }).ToList();
        Assert.Equal([(1, 170.0), (400, 30_000.0)], RepeatedRuns.Medians(runs).Select(r => (r.Settings.Batch, r.CommandsPerSecond)));
        Assert.Equal(150.0, Assert.Single(RepeatedRuns.Medians(runs.Where(r => r.Settings.Batch == 1).Take(2))).CommandsPerSecond);
        Assert.Equal(
            ["block 1, payload 0 B, 8×400, 4 validators: 3 runs, cmd/s 150 / 190 / 170, mean latency 20.0–30.0 ms",
             "block 400, payload 0 B, 8×400, 4 validators: 3 runs, cmd/s 30000 / 40000 / 20000, mean latency 45.0–90.0 ms, speed index 0.90 / 1.15 / 1.00"],
            RepeatedRuns.Spread(runs));
    }

    [Theory]
    [Trait("Category", "Unit")]
    [InlineData("--repeat", "0", "--repeat must be a whole number from 1 to 20")]
    [InlineData("--sweep", "rounds=1,2", "keys validators, batch, payload, clients, outstanding")]
    [InlineData("--sweep", "batch=0,400", "batch takes whole numbers from 1 to 10000")]
    [InlineData("--sweep", "batch=", "batch has no values")]
    [InlineData("--workload", "ledger", "--workload ledger is not known")]
    [InlineData("--validators", "0", "--validators must be a whole number from 1 to 64")]
    [InlineData("--clients", "65", "65 clients on 4 validators is more than the 16 commit-feed subscribers")]
    [InlineData("--workload idos --payload", "100", "the idos workload's transactions carry 1 KiB")]
    [InlineData("--workload idos --outstanding", "2501", "20008 idOS users (--clients × --outstanding) is more than the 20000")]
    public void A_bad_command_line_is_refused_with_the_reason(string option, string value, string reason)
    {
        var refused = Assert.Throws<UsageException>(() => ClusterCommand.Parse([.. option.Split(' '), value]));

        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Unit")]
    public void A_sweep_draws_throughput_against_latency_and_against_validators_as_png()
    {
        var results = new[] { (4, 1, 700.0, 5.5), (4, 400, 40_000.0, 45.0), (7, 1, 500.0, 8.0), (7, 400, 30_000.0, 60.0) }
            .Select(p => Result(p.Item1, p.Item2, p.Item3, p.Item4)).ToList();

        var plots = SweepPlots.Draw(_output, results);

        Assert.Equal(["throughput-latency.png", "throughput-validators.png"], plots.Select(Path.GetFileName));
        foreach (var plot in plots)
        {
            var bytes = File.ReadAllBytes(plot);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
            Assert.True(bytes.Length > 5_000, $"{plot} has {bytes.Length} bytes");
        }
    }

    private static ClusterResult Result(int validators, int batch, double commandsPerSecond, double p50) => new(
        new ClusterSettings(validators, batch, 0, 8, 400, 30, 5, false, "noop"), 30, (long)(commandsPerSecond * 30), 1_000, commandsPerSecond, 33,
        commandsPerSecond / 33, 1.0, commandsPerSecond * 0.9, commandsPerSecond * 1.1, (long)(commandsPerSecond * 30), new LatencySummary(p50, p50, p50 * 1.2, p50 * 1.5, p50 * 2),
        0.05, 40, null, 20, 99, 0, null);
}
