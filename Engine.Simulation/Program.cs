using IdOS.Akka.Engine.Cli;

namespace IdOS.Akka.Engine.Simulation;

/// <summary>
/// The simulator's executable, for researchers: one summary line per scenario; each failing seed gets its violations
/// and the command that replays it alone. Exit code 1 when anything was violated.
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage: idos-simulate [--validators N] [--seeds K] [--first-seed S] [--scenario NAME|all] [--mutation NAME] [--parallelism P] [--trace]
          --validators   validator count, 1 to 100 (default 4)
          --seeds        seeds per scenario (default 1000)
          --first-seed   first seed; seeds run from here upward (default 1)
          --scenario     one of the scenarios below, or all (default all)
          --mutation     positive control: break a voting rule and watch the checker catch it:
                         none (default), skip-last-voted-round, skip-lock
          --parallelism  worker threads (default: one per core)
          --trace        print every step of the world (with --seeds 1)
        """;

    private static int Main(string[] args)
    {
        if (args is ["help" or "--help" or "-h"])
        {
            Console.WriteLine(Usage);
            return 0;
        }

        try
        {
            return Run(args, Console.Out);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine();
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }

    private static int Run(IReadOnlyList<string> args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var options = new CommandLineOptions(args, new HashSet<string>(StringComparer.Ordinal) { "trace" });
        var validators = (int)options.Number("validators", 4, 1, 100);
        var seeds = (int)options.Number("seeds", 1000, 1, 10_000_000);
        var firstSeed = (ulong)options.Number("first-seed", 1, 0, long.MaxValue);
        var scenarioName = options.Text("scenario", "all");
        var mutation = ParseMutation(options.Text("mutation", "none"));
        var parallelism = (int)options.Number("parallelism", 0, 0, 1024);
        var trace = options.Flag("trace");
        options.RejectUnknown();

        var scenarios = scenarioName == "all"
            ? Scenario.All
            : [Scenario.Find(scenarioName) ?? throw new UsageException(
                $"unknown scenario '{scenarioName}'; choose all or one of: {string.Join(", ", Scenario.All.Select(s => s.Name))}")];
        if (trace && seeds != 1)
        {
            throw new UsageException("--trace prints one world; use it with --seeds 1");
        }

        var anyViolation = false;
        foreach (var scenario in scenarios)
        {
            ScenarioSummary summary;
            if (trace)
            {
                var result = SimulationRunner.RunSeed(scenario, validators, firstSeed, mutation, output);
                summary = new ScenarioSummary(scenario, validators, mutation, [result], TimeSpan.Zero);
            }
            else
            {
                summary = SimulationRunner.RunScenario(scenario, validators, firstSeed, seeds, mutation, parallelism);
            }

            output.WriteLine(summary.SummaryLine());
            foreach (var failed in summary.Failed)
            {
                anyViolation = true;
                foreach (var violation in failed.Violations)
                {
                    output.WriteLine($"  violation scenario={scenario.Name} seed={failed.Seed} kind={violation.Kind} at={violation.TimeMs}ms {violation.Detail}");
                }

                output.WriteLine($"  reproduce: {summary.ReproduceCommand(failed.Seed)}");
            }

            output.Flush();
        }

        return anyViolation ? 1 : 0;
    }

    private static ProtocolMutation ParseMutation(string name) => name switch
    {
        "none" => ProtocolMutation.None,
        "skip-last-voted-round" => ProtocolMutation.SkipLastVotedRoundCheck,
        "skip-lock" => ProtocolMutation.SkipLockCheck,
        _ => throw new UsageException($"unknown mutation '{name}'; choose none, skip-last-voted-round or skip-lock"),
    };
}
