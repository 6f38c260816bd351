using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace IdOS.Akka.Engine.Bench.Micro.Decoding;

/// <summary>
/// `decoder-check`, which CI runs: <see cref="DecoderBenchmarks"/> with a short job in this process, failing (exit 1)
/// when a hostile 1 MiB input costs more than the valid input of the same kind. The allowance of half again covers a
/// short job's noise; a decoder that read the hostile input would be thousands of times slower.
/// </summary>
internal static class DecoderCheck
{
    private const double Allowance = 1.5;

    public static int Run(TextWriter output)
    {
        var config = ManualConfig.Create(MicroConfig.Instance)
            .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        var summary = BenchmarkRunner.Run<DecoderBenchmarks>(config);
        var means = summary.Reports
            .Where(r => r.ResultStatistics is not null)
            .ToDictionary(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name, r => r.ResultStatistics!.Mean);
        if (!means.TryGetValue(nameof(DecoderBenchmarks.NearKeyValid), out var valid) || !means.TryGetValue(nameof(DecoderBenchmarks.NearKeyHostile1MiB), out var hostile))
        {
            output.WriteLine("decoder-check: the benchmarks did not produce both means");
            return 1;
        }

        var verdict = hostile <= valid * Allowance;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"decoder-check: NEAR key name, valid {valid:0.0} ns, hostile 1 MiB {hostile:0.0} ns: {(verdict ? "bounded" : "HOSTILE INPUT COSTS MORE")}"));
        return verdict ? 0 : 1;
    }
}
