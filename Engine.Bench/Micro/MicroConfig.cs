using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;

namespace IdOS.Akka.Engine.Bench.Micro;

/// <summary>
/// The one configuration every micro-benchmark runs with: BenchmarkDotNet's defaults (the job can still be chosen on
/// the command line, e.g. `--job Short`) and allocations per operation, since allocation is half of what a hot path costs here.
/// </summary>
internal static class MicroConfig
{
    public static IConfig Instance { get; } = ManualConfig.Create(DefaultConfig.Instance).AddDiagnoser(MemoryDiagnoser.Default);
}
