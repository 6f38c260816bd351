using System.CommandLine;
using IdOS.Akka.Engine.Cli;
using Spectre.Console;

namespace IdOS.Akka.Engine.Simulation;

/// <summary>
/// The simulator's executable, for researchers: one summary line per scenario; each failing seed gets its violations
/// and the command that replays it alone. Exit code 1 when anything was violated. On a terminal a progress bar per
/// scenario counts its seeds; in a pipe only the lines are written.
/// </summary>
internal static class Program
{
    private static Task<int> Main(string[] args) => CommandLineApp.Invoke(Root(), args);

    private static RootCommand Root()
    {
        var validators = CommandLineApp.Count("--validators", "validator count", 4, 1, 100);
        var seeds = CommandLineApp.Count("--seeds", "seeds per scenario", 1000, 1, 10_000_000);
        var firstSeed = CommandLineApp.Number("--first-seed", "first seed; seeds run from here upward", 1, 0, long.MaxValue);
        var scenario = CommandLineApp.Choice("--scenario", "one scenario, or all", "all", [.. Scenario.All.Select(s => s.Name).Prepend("all")]);
        var mutation = CommandLineApp.Choice("--mutation", "positive control: break a voting rule and watch the checker catch it", "none",
            "none", "skip-last-voted-round", "skip-lock");
        var parallelism = CommandLineApp.Count("--parallelism", "worker threads (0: one per core)", 0, 0, 1024);
        var trace = CommandLineApp.Flag("--trace", "print every step of the world (with --seeds 1)");
        var root = new RootCommand("The consensus simulator: seeded worlds of validators under faults, checked for safety and liveness.")
        {
            validators, seeds, firstSeed, scenario, mutation, parallelism, trace,
        };
        root.SetAction(parse => Run(
            parse.GetValue(validators), parse.GetValue(seeds), (ulong)parse.GetValue(firstSeed),
            parse.GetValue(scenario) is var name && name == "all" ? Scenario.All : [Scenario.Find(name!)!],
            ParseMutation(parse.GetValue(mutation)!), parse.GetValue(parallelism), parse.GetValue(trace), parse.Output()));
        return root;
    }

    private static int Run(int validators, int seeds, ulong firstSeed, IReadOnlyList<Scenario> scenarios, ProtocolMutation mutation, int parallelism, bool trace,
        TextWriter output)
    {
        if (trace && seeds != 1)
        {
            throw new UsageException("--trace prints one world; use it with --seeds 1");
        }

        ScenarioSummary Simulate(Scenario scenario, Action? seedFinished)
        {
            if (!trace)
            {
                return SimulationRunner.RunScenario(scenario, validators, firstSeed, seeds, mutation, parallelism, seedFinished: seedFinished);
            }

            var result = SimulationRunner.RunSeed(scenario, validators, firstSeed, mutation, output);
            return new ScenarioSummary(scenario, validators, mutation, [result], TimeSpan.Zero);
        }

        var anyViolation = false;
        void Report(ScenarioSummary summary, TextWriter lines)
        {
            lines.WriteLine(summary.SummaryLine());
            foreach (var failed in summary.Failed)
            {
                anyViolation = true;
                foreach (var violation in failed.Violations)
                {
                    lines.WriteLine($"  violation scenario={summary.Scenario.Name} seed={failed.Seed} kind={violation.Kind} at={violation.TimeMs}ms {violation.Detail}");
                }

                lines.WriteLine($"  reproduce: {summary.ReproduceCommand(failed.Seed)}");
            }

            lines.Flush();
        }

        if (trace || !ReferenceEquals(output, Console.Out) || Console.IsOutputRedirected)
        {
            foreach (var scenario in scenarios)
            {
                Report(Simulate(scenario, null), output);
            }
        }
        else
        {
            // Lines written to the console while the bars are live are drawn above them.
            AnsiConsole.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new RemainingTimeColumn(), new SpinnerColumn()).Start(context =>
            {
                foreach (var scenario in scenarios)
                {
                    var bar = context.AddTask(scenario.Name, maxValue: seeds);
                    var summary = Simulate(scenario, () => bar.Increment(1));
                    bar.StopTask();
                    using var lines = new StringWriter();
                    Report(summary, lines);
                    AnsiConsole.Write(new Text(lines.ToString()));
                }
            });
        }

        return anyViolation ? 1 : 0;
    }

    private static ProtocolMutation ParseMutation(string name) => name switch
    {
        "skip-last-voted-round" => ProtocolMutation.SkipLastVotedRoundCheck,
        "skip-lock" => ProtocolMutation.SkipLockCheck,
        _ => ProtocolMutation.None,
    };
}
