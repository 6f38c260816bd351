using BenchmarkDotNet.Running;
using IdOS.Akka.Engine.Bench.Reads;

namespace IdOS.Akka.Engine.Bench;

internal static class Program
{
    /// <summary>
    /// `reads ...` runs the read-batching benchmark; anything else goes to BenchmarkDotNet
    /// (`dotnet run -c Release --project Engine.Bench -- --filter '*'`); see docs/BENCHMARKS.md.
    /// </summary>
    private static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "reads")
        {
            return await ReadBatchingBenchmark.Run(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
