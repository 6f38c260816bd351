using System.Diagnostics;
using BenchmarkDotNet.Analysers;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Validators;

namespace IdOS.Akka.Engine.Bench.Micro;

/// <summary>
/// How busy the benchmark process is while an operation runs: its CPU time, every thread's, over the wall time of the
/// measured iterations. The mean is wall time on the calling thread; where an operation waits for the disk (below 1)
/// or hands work to other threads, the journal's stream or the thread pool (above 1 while they overlap), only the
/// two together say what the operation costs a machine that has other work. Read at the host's signals around the
/// measured iterations, so the benchmark's code stays free of measuring; BenchmarkDotNet's own work between
/// iterations (its forced collections) counts too, and so would an [IterationSetup]'s, so it goes only on classes
/// without one.
/// </summary>
internal sealed class CpuTimeDiagnoser : IDiagnoser
{
    public static readonly CpuTimeDiagnoser Instance = new();

    private readonly Dictionary<BenchmarkCase, double> _cpuOverWall = [];
    private TimeSpan _cpuAtStart;
    private long _wallAtStart;

    private CpuTimeDiagnoser()
    {
    }

    public IEnumerable<string> Ids => ["CpuTime"];

    public IEnumerable<IExporter> Exporters => [];

    public IEnumerable<IAnalyser> Analysers => [];

    public RunMode GetRunMode(BenchmarkCase benchmarkCase) => RunMode.NoOverhead;

    public void Handle(HostSignal signal, DiagnoserActionParameters parameters)
    {
        switch (signal)
        {
            case HostSignal.BeforeActualRun:
                (_cpuAtStart, _wallAtStart) = (CpuTimeOf(parameters.Process), Stopwatch.GetTimestamp());
                break;
            case HostSignal.AfterActualRun:
                var wall = Stopwatch.GetElapsedTime(_wallAtStart);
                _cpuOverWall[parameters.BenchmarkCase] = wall > TimeSpan.Zero ? (CpuTimeOf(parameters.Process) - _cpuAtStart) / wall : 0;
                break;
        }
    }

    public IEnumerable<Metric> ProcessResults(DiagnoserResults results)
    {
        if (_cpuOverWall.TryGetValue(results.BenchmarkCase, out var cpuOverWall))
        {
            yield return new Metric(CpuOverWall.Instance, cpuOverWall);
        }
    }

    public void DisplayResults(ILogger logger)
    {
    }

    public IEnumerable<ValidationError> Validate(ValidationParameters validationParameters) => [];

    private static TimeSpan CpuTimeOf(Process process)
    {
        process.Refresh();
        return process.TotalProcessorTime;
    }

    internal sealed class CpuOverWall : IMetricDescriptor
    {
        public static readonly CpuOverWall Instance = new();

        public string Id => "CpuTimeOverWallTime";

        public string DisplayName => "CPU/wall";

        public string Legend => "CPU time of every thread of the benchmark process over the wall time of the measured iterations";

        public string NumberFormat => "N2";

        public UnitType UnitType => UnitType.Dimensionless;

        public string Unit => "";

        public bool TheGreaterTheBetter => false;

        public int PriorityInCategory => 0;

        public bool GetIsAvailable(Metric metric) => true;
    }
}

/// <summary>The mean times <see cref="CpuTimeDiagnoser"/>'s CPU/wall: what an operation costs in CPU time.</summary>
internal sealed class CpuTimePerOperationColumn : IColumn
{
    public static readonly CpuTimePerOperationColumn Instance = new();

    public string Id => "CpuTimePerOperation";

    public string ColumnName => "CPU/op";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Metric;

    public int PriorityInCategory => 1;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Time;

    public string Legend => "Mean × CPU/wall: CPU time per operation, every thread's";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } statistics
            || !report.Metrics.TryGetValue(CpuTimeDiagnoser.CpuOverWall.Instance.Id, out var cpuOverWall))
        {
            return "-";
        }

        var nanoseconds = statistics.Mean * cpuOverWall.Value;
        return nanoseconds switch
        {
            < 1_000 => $"{nanoseconds:N1} ns",
            < 1_000_000 => $"{nanoseconds / 1_000:N1} us",
            _ => $"{nanoseconds / 1_000_000:N2} ms",
        };
    }

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;
}

/// <summary>For <c>[Config(typeof(CpuTimeConfig))]</c> on a benchmark class: CPU/wall and CPU/op beside the shared configuration.</summary>
internal sealed class CpuTimeConfig : ManualConfig
{
    public CpuTimeConfig()
    {
        AddDiagnoser(CpuTimeDiagnoser.Instance);
        AddColumn(CpuTimePerOperationColumn.Instance);
    }
}
