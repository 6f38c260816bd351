using System.CommandLine;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Running;
using IdOS.Akka.Engine.Bench.Cluster;
using IdOS.Akka.Engine.Bench.Micro;
using IdOS.Akka.Engine.Bench.Reads;
using IdOS.Akka.Engine.Cli;
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
    /// `cluster ...` runs the cluster benchmark; `reads ...` the read-batching benchmark; `snapshots ...` what a state
    /// snapshot costs; `headers` how fast headers are checked from genesis; `decoder-check` the decoders' bound on hostile
    /// input, as CI runs it; `micro --filter '*'` the BenchmarkDotNet micro-benchmarks (BenchmarkDotNet's own options
    /// after `micro`); see docs/BENCHMARKS.md.
    /// </summary>
    private static Task<int> Main(string[] args)
    {
        GC.KeepAlive(StopSignals);
        var decoderCheck = new Command("decoder-check", "The decoders' bound on hostile input, as CI runs it: exits 1 when a 1 MiB hostile NEAR key " +
            "name costs more than a valid one.");
        decoderCheck.SetAction(parse => Micro.Decoding.DecoderCheck.Run(parse.Output()));
        var micro = new Command("micro", "The BenchmarkDotNet micro-benchmarks; every argument after `micro` is BenchmarkDotNet's (e.g. --filter '*', " +
            "--list flat).") { TreatUnmatchedTokensAsErrors = false };
        micro.SetAction(parse =>
        {
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. parse.UnmatchedTokens], MicroConfig.Instance);
            return 0;
        });
        var root = new RootCommand("The benchmarks of IdOS.Akka: the cluster benchmark comparable with libhotstuff's, read batching, state " +
            "snapshots, header sync, the decoders' bound, and the micro-benchmarks.")
        {
            ClusterBenchmark.Definition(),
            ReadBatchingBenchmark.Definition(),
            Snapshots.SnapshotBenchmark.Definition(),
            Snapshots.HeaderSyncBenchmark.Definition(),
            decoderCheck,
            micro,
        };
        return CommandLineApp.Invoke(root, args);
    }
}
