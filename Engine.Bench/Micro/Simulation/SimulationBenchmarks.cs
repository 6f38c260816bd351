using BenchmarkDotNet.Attributes;
using IdOS.Akka.Engine.Simulation;

namespace IdOS.Akka.Engine.Bench.Micro.Simulation;

/// <summary>How long one simulated world takes: what bounds the seeds per minute researchers get from `simulate`.</summary>
public class SimulationBenchmarks
{
    private ulong _seed;

    [Params("baseline", "lossy", "twins")]
    public string Scenario { get; set; } = "baseline";

    [Benchmark]
    public long OneWorldOfFourValidators() =>
        SimulationRunner.RunSeed(global::IdOS.Akka.Engine.Simulation.Scenario.Find(Scenario)!, 4, ++_seed % 50 + 1).Events;
}
