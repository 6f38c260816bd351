using System.Runtime.InteropServices;
using BenchmarkDotNet.Running;
using IdOS.Akka.Engine.Bench.Cluster;
using IdOS.Akka.Engine.Bench.Micro;
using IdOS.Akka.Engine.Bench.Reads;
using IdOS.Akka.Engine.Cli.Localnet;

namespace IdOS.Akka.Engine.Bench;

internal static class Program
{
    // A benchmark stopped by SIGTERM, SIGHUP or Ctrl-C never reaches its disposals (and AppDomain.ProcessExit was seen not
    // to run on SIGTERM here); without this its validators live on, holding ports and CPU and skewing the next run.
    // Held for the life of the process: a registration that is collected stops handling its signal.
    private static readonly PosixSignalRegistration[] StopSignals =
        [.. new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGHUP }.Select(signal => PosixSignalRegistration.Create(signal, _ => NodeProcess.KillAll()))];

    /// <summary>
    /// `micro --filter '*'` runs the BenchmarkDotNet micro-benchmarks (arguments without `micro` go there too);
    /// `cluster ...` runs the cluster benchmark; `reads ...` the read-batching benchmark; `snapshots ...` what a state snapshot costs; `headers` how fast headers are checked from genesis; `decoder-check` the decoders'
    /// bound on hostile input, as CI runs it; see docs/BENCHMARKS.md.
    /// </summary>
    private static async Task<int> Main(string[] args)
    {
        GC.KeepAlive(StopSignals);
        switch (args.FirstOrDefault())
        {
            case "cluster":
                return await ClusterBenchmark.Run(args[1..], Console.Out);
            case "reads":
                return await ReadBatchingBenchmark.Run(args[1..]);
            case "snapshots":
                return Snapshots.SnapshotBenchmark.Run(args[1..], Console.Out);
            case "headers":
                return Snapshots.HeaderSyncBenchmark.Run(args[1..], Console.Out);
            case "decoder-check":
                return Micro.Decoding.DecoderCheck.Run(Console.Out);
            case "micro":
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args[1..], MicroConfig.Instance);
                return 0;
            default:
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, MicroConfig.Instance);
                return 0;
        }
    }
}
