using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using HdrHistogram;
using IdOS.Akka.Engine.Cli;
using IdOS.Akka.Engine.Gateway;

namespace IdOS.Akka.Engine.Bench.Cluster;

/// <summary>
/// The researchers' benchmark, set up as libhotstuff's own: validators on 127.0.0.1, closed-loop clients keeping a
/// fixed number of commands outstanding, a warm-up, then a measured window. See docs/BENCHMARKS.md.
/// </summary>
internal static class ClusterBenchmark
{
    private static readonly TimeSpan ReadyLimit = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CeilingMeasurement = TimeSpan.FromSeconds(3);

    public static Command Definition()
    {
        var options = new ClusterOptions();
        var command = options.Command();
        command.SetAction(parse => parse.GetValue(options.Replot) is { Length: > 0 } directory ? Replot(directory, parse.Output()) : Run(options.Read(parse), parse.Output()));
        return command;
    }

    public static Task<int> Run(IReadOnlyList<string> args, TextWriter output) => CommandLineApp.Run(Definition(), args, output);

    private static async Task<int> Run(ClusterCommand command, TextWriter output)
    {
        var environment = BenchEnvironment.Capture();
        await output.WriteLineAsync($"cluster benchmark: {environment.Describe()}");
        await output.WriteLineAsync(ResultTable.Header);
        var results = new List<ClusterResult>();
        foreach (var settings in command.Runs)
        {
            ClusterResult result;
            try
            {
                // A fault run's validator logs (status lines each second, connections, catch-up) are what explain its
                // recovery figures, so they are kept beside the results.
                var logs = settings.Fault is null ? null : Path.Combine(command.OutputDirectory, $"logs-run{results.Count + 1}");
                var expected = TimeSpan.FromSeconds(settings.WarmupSeconds + settings.DurationSeconds) + (2 * command.SpeedProbe);
                result = await TerminalProgress.Track(output, $"run {results.Count + 1} of {command.Runs.Count}", expected,
                    () => RunOne(settings, command.SpeedProbe, logs));
            }
            catch (Exception e) when (IsRunFailure(e))
            {
                await output.WriteLineAsync($"error: the run of {settings.Describe()} failed: {e.Message}");
                if (results.Count > 0)
                {
                    ResultFiles.Write(command.OutputDirectory, environment, results);
                }

                return 1;
            }

            results.Add(result);
            await output.WriteLineAsync(ResultTable.Row(result));

            ResultFiles.Write(command.OutputDirectory, environment, results);
        }

        foreach (var (result, row) in results.Select((r, i) => (r, i + 1)))
        {
            if (result.Phases is { } phases)
            {
                await output.WriteLineAsync($"row {row}: {phases.Describe(result.BlocksPerSecond)}");
            }

            if (result.Speed is { } speed)
            {
                await output.WriteLineAsync($"row {row}: {speed.Describe(result.MachineStolenPercent)}");
            }

            if (result.Fault is { } figures)
            {
                await output.WriteLineAsync($"row {row}: {result.Settings.Fault!.Describe()}:\n{FaultFigures.Header}\n{figures.Row()}");
                await output.WriteLineAsync($"row {row}: the processes' logs: {Path.GetFullPath(Path.Combine(command.OutputDirectory, $"logs-run{row}"))}");
            }

            if (result.VerificationCeiling is { } ceiling)
            {
                await output.WriteLineAsync($"row {row}: {ceiling.Describe()}");
            }
        }

        if (command.Repeat > 1)
        {
            await output.WriteLineAsync($"the median run of each point over {command.Repeat} passes:");
            await output.WriteLineAsync(ResultTable.Header);
            foreach (var median in RepeatedRuns.Medians(results))
            {
                await output.WriteLineAsync(ResultTable.Row(median));
            }

            foreach (var spread in RepeatedRuns.Spread(results))
            {
                await output.WriteLineAsync(spread);
            }
        }

        await output.WriteLineAsync($"results: {Path.GetFullPath(ResultFiles.JsonPath(command.OutputDirectory))} and {ResultFiles.CsvFileName} beside it");
        if (command.IsSweep)
        {
            foreach (var plot in SweepPlots.Draw(command.OutputDirectory, RepeatedRuns.Medians(results)))
            {
                await output.WriteLineAsync($"plot: {Path.GetFullPath(plot)}");
            }
        }

        return 0;
    }

    /// <summary>Draws a finished sweep's plots again from its results.json, e.g. after the plots changed.</summary>
    private static async Task<int> Replot(string directory, TextWriter output)
    {
        var path = ResultFiles.JsonPath(directory);
        ClusterResultsDocument? document;
        try
        {
            document = System.Text.Json.JsonSerializer.Deserialize<ClusterResultsDocument>(await File.ReadAllTextAsync(path), ResultFiles.Json);
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
        {
            await Console.Error.WriteLineAsync($"error: {path} cannot be read as cluster results: {e.Message}");
            return 1;
        }

        foreach (var plot in SweepPlots.Draw(directory, RepeatedRuns.Medians(document?.Runs ?? [])))
        {
            await output.WriteLineAsync($"plot: {Path.GetFullPath(plot)}");
        }

        return 0;
    }

    public static async Task<ClusterResult> RunOne(ClusterSettings settings, TimeSpan speedProbe, string? keepLogsIn = null)
    {
        // Measured on the quiet machine, before the validators start and after they stop.
        var ceiling = settings.IsIdos ? VerificationCeiling.Measure(settings.Validators, CeilingMeasurement) : null;
        var speedBefore = speedProbe > TimeSpan.Zero ? MachineSpeed.Probe(speedProbe) : (double?)null;
        ClusterResult result;
        await using (var network = BenchNetwork.Start(settings))
        {
            try
            {
                result = await Measure(settings, network) with { VerificationCeiling = ceiling };
                if (keepLogsIn is not null)
                {
                    network.CopyLogsTo(keepLogsIn);
                }
            }
            catch (Exception e) when (IsRunFailure(e))
            {
                network.KeepFiles();
                throw;
            }
        }

        return speedBefore is { } before
            ? result with { Speed = new MachineSpeed(Environment.ProcessorCount, before, MachineSpeed.Probe(speedProbe)) }
            : result;
    }

    private static async Task<ClusterResult> Measure(ClusterSettings settings, BenchNetwork network)
    {
        await using var client = NodeClient.Create(network.Transport);
        await network.WaitUntilReady(client, ReadyLimit);
        if (settings.IsIdos)
        {
            await network.StartRpc(settings, ReadyLimit);
        }

        var window = new MeasurementWindow();
        var load = settings.IsIdos
            ? (IClusterLoad)await IdosBroadcastLoad.Start(client, network, settings, window)
            : NoopLoad.Start(client.System, settings, [.. network.Addresses.Where((_, i) => i != settings.Fault?.Validator)], window);
        try
        {
            return await MeasureWindow(settings, network, client, load, window);
        }
        catch
        {
            await load.DisposeAsync();
            throw;
        }
    }

    /// <summary>The warm-up, the measured window, and the clients stopped (by the end, the load is disposed).</summary>
    private static async Task<ClusterResult> MeasureWindow(ClusterSettings settings, BenchNetwork network, NodeClient client, IClusterLoad load, MeasurementWindow window)
    {
        var stats = load.Stats;
        await Task.Delay(TimeSpan.FromSeconds(settings.WarmupSeconds));
        ThrowIfAnyFailed(stats);

        // Figures come from a validator the fault leaves alone; noop clients likewise use only those (idOS clients go
        // through the RPC system, which moves on from a validator that stops answering).
        var fault = settings.Fault;
        var reference = network.Addresses[fault?.Validator == 0 ? 1 : 0];
        FaultRecovery? recovery = null;
        var start = await client.Status(reference, AskTimeout);
        var startClock = Stopwatch.GetTimestamp();
        var validatorCpuStart = network.ValidatorCpu();
        var rpcCpuStart = network.RpcCpu();
        var ownCpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        var machineStart = MachineCpu.Read();
        window.Open();

        var perSecond = new List<double>();
        var previous = (Status: start, Clock: startClock);
        for (var second = 1; second <= settings.DurationSeconds; second++)
        {
            var due = startClock + (second * Stopwatch.Frequency);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            var status = await client.Status(reference, AskTimeout);
            var clock = Stopwatch.GetTimestamp();
            perSecond.Add((status.CommittedTransactions - previous.Status.CommittedTransactions) / Stopwatch.GetElapsedTime(previous.Clock, clock).TotalSeconds);
            previous = (status, clock);
            if (fault is not null)
            {
                recovery = await InjectFault(fault, second, network, client, window, status.Height) ?? recovery;
            }
        }

        window.Close();
        var recoverySeconds = recovery is null ? null : await recovery.Seconds;
        var end = previous.Status;
        var elapsed = Stopwatch.GetElapsedTime(startClock, previous.Clock).TotalSeconds;
        var validatorCpu = (network.ValidatorCpu() - validatorCpuStart).TotalSeconds;
        var rpcCpu = (network.RpcCpu() - rpcCpuStart).TotalSeconds;
        var ownCpu = (Process.GetCurrentProcess().TotalProcessorTime - ownCpuStart).TotalSeconds;
        var machineEnd = MachineCpu.Read();
        await load.DisposeAsync();
        ThrowIfAnyFailed(stats);

        var committed = end.CommittedTransactions - start.CommittedTransactions;
        var blocks = end.Height - start.Height;
        var latency = new LongHistogram(600_000_000L, 3);
        var toProposal = new LongHistogram(600_000_000L, 3);
        var proposalToCommit = new LongHistogram(600_000_000L, 3);
        var commitToClient = new LongHistogram(600_000_000L, 3);
        foreach (var clientStats in stats)
        {
            latency.Add(clientStats.Latency);
            toProposal.Add(clientStats.ToProposal);
            proposalToCommit.Add(clientStats.ProposalToCommit);
            commitToClient.Add(clientStats.CommitToClient);
        }

        var (waiting, consensus, notice) = (Summarize(toProposal), Summarize(proposalToCommit), Summarize(commitToClient));
        LatencyPhases? phases = toProposal.TotalCount == 0 ? null
            : new LatencyPhases(waiting.Mean, waiting.P50, consensus.Mean, consensus.P50, notice.Mean, notice.P50);

        return new ClusterResult(
            settings,
            elapsed,
            committed,
            blocks,
            committed / elapsed,
            blocks / elapsed,
            blocks == 0 ? 0 : (double)committed / blocks,
            blocks == 0 ? 0 : (double)(end.Round - start.Round) / blocks,
            perSecond.Min(),
            perSecond.Max(),
            stats.Sum(s => s.Acknowledged),
            Summarize(latency),
            committed == 0 ? 0 : (validatorCpu + rpcCpu + ownCpu) * 1000 / committed,
            settings.InProcess ? null : validatorCpu,
            settings.InProcess || !settings.IsIdos ? null : rpcCpu,
            ownCpu,
            MachineCpu.BusyPercent(machineStart, machineEnd),
            stats.Sum(s => s.Refused),
            stats.Select(s => s.FirstRefusal).FirstOrDefault(r => r is not null),
            Phases: phases,
            MachineStolenPercent: MachineCpu.StolenPercent(machineStart, machineEnd),
            Fault: fault is null ? null : Figures(fault, perSecond, stats, recoverySeconds));
    }

    /// <summary>
    /// After the sample of <paramref name="second"/>: the fault at its second, the heal at its own, and the window told
    /// when the fault started and settled, for the clients' latencies. On a heal, returns the watch for the validator to reach
    /// <paramref name="height"/>, the reference validator's height then.
    /// </summary>
    private static async Task<FaultRecovery?> InjectFault(FaultPlan fault, int second, BenchNetwork network, NodeClient client, MeasurementWindow window, long height)
    {
        if (second == fault.AtSeconds)
        {
            switch (fault.Kind)
            {
                case FaultKind.Kill:
                    network.Kill(fault.Validator);
                    break;
                case FaultKind.Pause:
                    network.Pause(fault.Validator);
                    break;
                default:
                    network.Isolate(fault.Validator);
                    break;
            }

            window.FaultStarted();
        }

        if (second == fault.AtSeconds + FaultPlan.SettleSeconds)
        {
            window.FaultSettled();
        }

        if (fault.ForSeconds is { } span && second == fault.AtSeconds + span)
        {
            switch (fault.Kind)
            {
                case FaultKind.Kill:
                    await network.Restart(fault.Validator);
                    break;
                case FaultKind.Pause:
                    network.Resume(fault.Validator);
                    break;
                default:
                    network.Heal();
                    break;
            }

            return FaultRecovery.Watch(client, network.Addresses[fault.Validator], height);
        }

        return null;
    }

    private static FaultFigures Figures(FaultPlan fault, List<double> perSecond, IReadOnlyList<ClientStats> stats, double? recoverySeconds)
    {
        double Mean(int from, int to) => perSecond.Skip(from).Take(Math.Max(0, Math.Min(to, perSecond.Count) - from)).DefaultIfEmpty(0).Average();
        LatencySummary Phase(int phase)
        {
            var merged = new LongHistogram(600_000_000L, 3);
            foreach (var clientStats in stats)
            {
                merged.Add(clientStats.ByFaultPhase[phase]);
            }

            return Summarize(merged);
        }

        var settled = fault.AtSeconds + FaultPlan.SettleSeconds;
        return new FaultFigures(fault.ToString(), Mean(0, fault.AtSeconds), Mean(fault.AtSeconds, settled), Mean(settled, perSecond.Count),
            Phase(0), Phase(1), Phase(2), recoverySeconds);
    }

    /// <summary>What a run can fail with that is the network's or a client's doing, reported rather than crashing the benchmark.</summary>
    private static bool IsRunFailure(Exception e) => e is TimeoutException or InvalidOperationException or AskTimeoutException;

    private static void ThrowIfAnyFailed(IReadOnlyList<ClientStats> stats)
    {
        if (stats.Select(s => s.Failure).FirstOrDefault(f => f is not null) is { } failure)
        {
            throw new InvalidOperationException($"a client stopped: {failure}");
        }
    }

    private static LatencySummary Summarize(LongHistogram microseconds)
    {
        if (microseconds.TotalCount == 0)
        {
            return new LatencySummary(0, 0, 0, 0, 0);
        }

        static double Ms(double us) => Math.Round(us / 1000, 3);
        return new LatencySummary(Ms(microseconds.GetMean()), Ms(microseconds.GetValueAtPercentile(50)), Ms(microseconds.GetValueAtPercentile(90)),
            Ms(microseconds.GetValueAtPercentile(99)), Ms(microseconds.GetMaxValue()));
    }
}

/// <summary>The Markdown table the benchmark prints, one row per run, as docs/BENCHMARKS.md shows it.</summary>
internal static class ResultTable
{
    public const string Header = """
        | validators | block | outstanding | cmd/s | per-second min–max | blocks/s | cmd/block | rounds/block | mean ms | p50 | p90 | p99 | max | CPU s / 1k cmd | machine busy |
        |---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
        """;

    public static string Row(ClusterResult r) => string.Create(CultureInfo.InvariantCulture,
        $"| {r.Settings.Validators} | {r.Settings.Batch} | {r.Settings.Clients}×{r.Settings.Outstanding} | {r.CommandsPerSecond:0} | " +
        $"{r.PerSecondMin:0}–{r.PerSecondMax:0} | {r.BlocksPerSecond:0} | {r.CommandsPerBlock:0.0} | {r.RoundsPerBlock:0.00} | {r.Latency.Mean:0.0} | {r.Latency.P50:0.0} | " +
        $"{r.Latency.P90:0.0} | {r.Latency.P99:0.0} | {r.Latency.Max:0.0} | {r.CpuSecondsPer1000Commands:0.000} | " +
        $"{(r.MachineBusyPercent is { } busy ? $"{busy:0}%" : "n/a")} |");
}
