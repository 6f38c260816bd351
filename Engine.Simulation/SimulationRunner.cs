using System.Diagnostics;

namespace IdOS.Akka.Engine.Simulation;

/// <summary>One scenario over a range of seeds.</summary>
public sealed record ScenarioSummary(
    Scenario Scenario,
    int Validators,
    ProtocolMutation Mutation,
    IReadOnlyList<SimulationResult> Results,
    TimeSpan Elapsed)
{
    public IEnumerable<SimulationResult> Failed => Results.Where(r => r.Violations.Count > 0);

    public long Commits => Results.Sum(r => r.CommittedHeight);

    public long? RoundsToCommitPercentile(double percentile)
    {
        var rounds = Results.Where(r => r.RoundsToCommitAfterGst is not null).Select(r => r.RoundsToCommitAfterGst!.Value).Order().ToList();
        return rounds.Count == 0 ? null : rounds[Math.Min(rounds.Count - 1, (int)Math.Ceiling(percentile * rounds.Count) - 1)];
    }

    public string SummaryLine() =>
        $"scenario={Scenario.Name} validators={Validators} seeds={Results.Count} violations={Failed.Count()} commits={Commits} " +
        $"p99-rounds-to-commit-after-gst={RoundsToCommitPercentile(0.99)?.ToString() ?? "n/a"} " +
        $"max-rounds-to-commit-after-gst={RoundsToCommitPercentile(1.0)?.ToString() ?? "n/a"} " +
        $"liveness-bound={(Results.Count == 0 ? 0 : Results.Max(r => r.LivenessBound))} evidence={Results.Sum(r => r.Evidence)} " +
        $"rejected={Results.Sum(r => r.Rejected)} elapsed={Elapsed.TotalSeconds:F1}s" + Throughput() +
        (Mutation == ProtocolMutation.None ? "" : $" mutation={MutationName(Mutation)}") +
        (Results.Count == 1 ? $" event-log={Results[0].EventLogHash}" : "");

    /// <summary>The worst measured seeds, for scenarios that bound what down validators cost.</summary>
    private string Throughput()
    {
        var measured = Results.Where(r => r.Throughput is not null).Select(r => r.Throughput!).ToList();
        return measured.Count == 0 ? "" :
            $" min-blocks-per-round={measured.Min(t => t.BlocksPerRound):F4} max-lost-time={measured.Max(t => t.LostTimeShare):P1}" +
            $" max-skipped-rounds={measured.Max(t => t.SkippedRounds)} max-skipped-per-crash={measured.Where(t => t.Crashes > 0).Select(t => (double)t.SkippedRounds / t.Crashes).DefaultIfEmpty(0).Max():F1}";
    }

    public string ReproduceCommand(ulong seed) =>
        $"dotnet run --project Engine.Simulation -c Release -- --validators {Validators} --seeds 1 --first-seed {seed} --scenario {Scenario.Name}" +
        (Mutation == ProtocolMutation.None ? "" : $" --mutation {MutationName(Mutation)}");

    public static string MutationName(ProtocolMutation mutation) => mutation switch
    {
        ProtocolMutation.SkipLastVotedRoundCheck => "skip-last-voted-round",
        ProtocolMutation.SkipLockCheck => "skip-lock",
        _ => "none",
    };
}

public static class SimulationRunner
{
    /// <summary>A seed decides everything about its world, given the scenario and the validator count.</summary>
    public static SimulationResult RunSeed(Scenario scenario, int validators, ulong seed, ProtocolMutation mutation = ProtocolMutation.None, TextWriter? trace = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var rng = new SimRandom(seed);
        var config = scenario.Build(validators, rng.Fork(), mutation);
        return new SimWorld(config, seed, rng, trace).Run();
    }

    public static ScenarioSummary RunScenario(
        Scenario scenario,
        int validators,
        ulong firstSeed,
        int seeds,
        ProtocolMutation mutation = ProtocolMutation.None,
        int parallelism = 0,
        Func<SimulationResult, bool>? stopWhen = null,
        Action? seedFinished = null)
    {
        var stopwatch = Stopwatch.StartNew();
        var results = new SimulationResult?[seeds];
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism > 0 ? parallelism : Environment.ProcessorCount };
        Parallel.For(0, seeds, options, (i, state) =>
        {
            var result = RunSeed(scenario, validators, firstSeed + (ulong)i, mutation);
            results[i] = result;
            seedFinished?.Invoke();
            if (stopWhen?.Invoke(result) == true)
            {
                state.Break();
            }
        });

        // After a Break, seeds below the breaking one all ran; keep the contiguous prefix so the report is exact.
        var ran = results.TakeWhile(r => r is not null).Select(r => r!).ToList();
        return new ScenarioSummary(scenario, validators, mutation, ran, stopwatch.Elapsed);
    }
}
