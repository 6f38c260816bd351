using BenchmarkDotNet.Running;

namespace IdOS.Akka.Engine.Bench;

internal static class Program
{
    /// <summary>`dotnet run -c Release --project Engine.Bench -- --filter '*'`; see docs/BENCHMARKS.md.</summary>
    private static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
