using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Simulation;
using Xunit;
using Xunit.Abstractions;

namespace IdOS.Akka.Engine.Tests.Simulation;

/// <summary>
/// The seeded simulation over every scenario: at least 1,000 worlds in all, each checked after every step for
/// agreement, validity, crash safety and liveness after GST. A failure names the seed and the command that replays it.
/// </summary>
[Trait("Category", "Simulation")]
public sealed class SimulationTests(ITestOutputHelper output)
{
    /// <summary>Seeds per scenario here; eighteen scenarios make 2,700 worlds for 4 validators.</summary>
    private const int SeedsPerScenario = 150;

    public static TheoryData<string> ScenarioNames => [.. Scenario.All.Select(s => s.Name)];

    [Theory]
    [MemberData(nameof(ScenarioNames))]
    public void Four_validators_hold_every_property_in_every_seed(string scenario) => AssertClean(Scenario.Find(scenario)!, 4, SeedsPerScenario);

    [Theory]
    [InlineData(1_000, 1.1)]
    [InlineData(0, double.PositiveInfinity)]
    public void A_chain_without_transactions_makes_one_block_per_idle_interval(long idleMs, double maxBlocksPerSecond)
    {
        var quiet = new Scenario("quiet", "no transactions, no faults", (n, rng, mutation) => Scenario.Find("baseline")!.Build(n, rng, mutation) with
        {
            Pacemaker = new PacemakerPolicy(500, 8_000) { IdleIntervalMs = idleMs },
            TransactionIntervalMs = 3_600_000,
            GstMs = 30_000,
            CommitsAfterGst = 30,
        });
        for (var seed = 1UL; seed <= 10; seed++)
        {
            var result = SimulationRunner.RunSeed(quiet, 4, seed);
            Assert.Empty(result.Violations);
            var perSecond = result.CommittedHeight * 1_000.0 / result.VirtualTimeMs;
            output.WriteLine($"idle {idleMs} ms, seed {seed}: {result.CommittedHeight} blocks in {result.VirtualTimeMs} ms of virtual time");
            Assert.True(perSecond <= maxBlocksPerSecond, $"{perSecond:F2} blocks a second (seed {seed})");
            Assert.True(idleMs > 0 ? perSecond >= 0.5 : perSecond > 20, $"{perSecond:F2} blocks a second (seed {seed})");
        }
    }

    [Theory]
    [InlineData("chaos", 7)]
    [InlineData("twins", 7)]
    [InlineData("equivocation", 10)]
    [InlineData("crash", 10)]
    [InlineData("dead-f", 7)]
    public void Larger_validator_sets_hold_every_property(string scenario, int validators) => AssertClean(Scenario.Find(scenario)!, validators, 30);

    [Fact]
    public void The_same_seed_replays_to_the_same_event_log_and_other_seeds_do_not()
    {
        var hashes = new HashSet<string>();
        foreach (var scenario in Scenario.All)
        {
            for (ulong seed = 1; seed <= 8; seed++)
            {
                var first = SimulationRunner.RunSeed(scenario, 4, seed);
                var second = SimulationRunner.RunSeed(scenario, 4, seed);

                Assert.Equal(first.EventLogHash, second.EventLogHash);
                Assert.Equal(first.Events, second.Events);
                Assert.True(hashes.Add(first.EventLogHash), $"{scenario.Name} seed {seed} repeats another world's event log");
            }
        }
    }

    /// <summary>
    /// A reported seed must replay in a fresh process too, where string and object hash codes are seeded differently:
    /// the simulator's executable prints the event-log hash of a single seed, and it must match this process's run.
    /// </summary>
    [Theory]
    [InlineData("chaos", 5UL)]
    [InlineData("twins", 9UL)]
    public void A_seed_replays_identically_in_another_process(string scenario, ulong seed)
    {
        var expected = SimulationRunner.RunSeed(Scenario.Find(scenario)!, 4, seed).EventLogHash;
        var simulator = Path.Combine(AppContext.BaseDirectory, "idos-simulate.dll");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { simulator, "--validators", "4", "--seeds", "1", "--first-seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--scenario", scenario },
        };

        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "the simulator did not finish within 2 minutes");

        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}\n{stdout}\n{stderr}");
        Assert.Contains($"event-log={expected}", stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// Positive controls: with a voting rule switched off, the checker must see two correct validators commit
    /// different blocks. Without the one-vote-per-round rule, Twins and the equivocating leader both fork the chain;
    /// without the lock check, the equivocating leader's lock attack does (Twins cannot: correct leaders, twins
    /// included, always satisfy the lock check, since they take in every timeout's high QC before proposing).
    /// </summary>
    [Theory]
    [InlineData("twins", ProtocolMutation.SkipLastVotedRoundCheck)]
    [InlineData("equivocation", ProtocolMutation.SkipLastVotedRoundCheck)]
    [InlineData("equivocation", ProtocolMutation.SkipLockCheck)]
    public void With_a_voting_rule_disabled_the_checker_finds_a_fork(string scenario, ProtocolMutation mutation)
    {
        const int budget = 1_000;
        var summary = SimulationRunner.RunScenario(Scenario.Find(scenario)!, 4, 1, budget, mutation,
            stopWhen: r => r.Violations.Any(v => v.Kind == ViolationKind.Agreement));

        var fork = summary.Results.FirstOrDefault(r => r.Violations.Any(v => v.Kind == ViolationKind.Agreement));
        Assert.True(fork is not null, $"no agreement violation in {summary.Results.Count} seeds of {scenario} with {mutation}");
        output.WriteLine($"{scenario} with {mutation}: first fork at seed {fork.Seed}: {fork.Violations.First(v => v.Kind == ViolationKind.Agreement)}");
    }

    private void AssertClean(Scenario scenario, int validators, int seeds)
    {
        var summary = SimulationRunner.RunScenario(scenario, validators, 1, seeds);
        output.WriteLine(summary.SummaryLine());
        var failures = summary.Failed
            .SelectMany(r => r.Violations.Select(v => $"{v}\n  reproduce: {summary.ReproduceCommand(r.Seed)}"))
            .ToList();

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(10)));
        Assert.Equal(seeds, summary.Results.Count);
        Assert.All(summary.Results, r => Assert.NotNull(r.RoundsToCommitAfterGst));
        Assert.True(summary.Commits > 0);
    }
}
