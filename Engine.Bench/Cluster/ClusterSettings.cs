using System.Globalization;
using IdOS.Akka.Engine.Cli;

namespace IdOS.Akka.Engine.Bench.Cluster;

/// <summary>What one cluster run is: every figure the benchmark prints or writes carries it.</summary>
internal sealed record ClusterSettings(
    int Validators,
    int Batch,
    int Payload,
    int Clients,
    int Outstanding,
    int DurationSeconds,
    int WarmupSeconds,
    bool InProcess,
    string Workload,
    bool Insecure = false,
    long? IdleIntervalMs = null,
    FaultPlan? Fault = null)
{
    /// <summary>libhotstuff's mode: any bytes are a command, nothing signed or executed.</summary>
    public const string NoopWorkload = "noop";

    /// <summary>Signed idOS writes through the RPC system, executed by the idOS state machine.</summary>
    public const string IdosWorkload = "idos";

    /// <summary>Signed idOS writes through the RPC system rather than libhotstuff's hash-only commands.</summary>
    public bool IsIdos => Workload == IdosWorkload;

    /// <summary>Commands in flight across all clients: libhotstuff's clients × max-async.</summary>
    public int TotalOutstanding => Clients * Outstanding;

    public string Describe()
    {
        var load = IsIdos
            ? FormattableString.Invariant($"EIP-191 add_attribute/add_credential with 1 KiB ciphertext through the RPC system, {Clients} clients × {Outstanding} users = {TotalOutstanding} waiting for their commit")
            : FormattableString.Invariant($"{32 + Payload}-byte commands, {Clients} clients × {Outstanding} outstanding = {TotalOutstanding}");
        return FormattableString.Invariant(
            $"{Validators} validators ({(InProcess ? "in this process" : "one process each")}), Akka.Remote {(Insecure ? "plain TCP (--insecure)" : "mutual TLS")}, workload {Workload}, block size {Batch}, {load}, {WarmupSeconds} s warm-up, {DurationSeconds} s measured{(IdleIntervalMs is { } idle ? $", idle interval {idle} ms" : "")}{(Fault is { } fault ? $", {fault.Describe()}" : "")}");
    }
}

/// <summary>
/// The cluster command line: one run, or a grid of runs from `--sweep key=v1,v2 key=v3,...`; with `--repeat N` the
/// whole grid N times over, one pass after another, so that a machine whose speed drifts slows every point alike.
/// </summary>
internal sealed record ClusterCommand(IReadOnlyList<ClusterSettings> Runs, string OutputDirectory, bool IsSweep, int Repeat, TimeSpan SpeedProbe)
{
    /// <summary>The bounds of the options a sweep may vary, for the single options and the sweep's values alike.</summary>
    internal static readonly Dictionary<string, (int Min, int Max)> SweepBounds = new(StringComparer.Ordinal)
    {
        ["validators"] = (1, 64),
        // The protocol's default block limit, which the clients' own system decodes committed blocks with.
        ["batch"] = (1, 10_000),
        ["payload"] = (0, 64 * 1024),
        ["clients"] = (1, 256),
        ["outstanding"] = (1, 100_000),
    };

    internal static IEnumerable<string> SweepKeys => SweepBounds.Keys;

    /// <summary>Each idOS user is registered (a user and its wallet) before the run; this bounds that setup.</summary>
    public const int MaxIdosUsers = 20_000;

    /// <summary>Parses a cluster command line as the executable does; a line it cannot act on is a <see cref="UsageException"/> with the reason.</summary>
    public static ClusterCommand Parse(IReadOnlyList<string> args)
    {
        var options = new ClusterOptions();
        var parse = options.Command().Parse(args);
        return parse.Errors.Count > 0 ? throw new UsageException(string.Join("; ", parse.Errors.Select(e => e.Message))) : options.Read(parse);
    }

    /// <summary>The runs the options describe, checked against each other.</summary>
    internal static ClusterCommand From(ClusterSettings single, string fault, IReadOnlyList<string> sweepWords, string output, int repeat, TimeSpan speedProbe)
    {
        var sweep = new List<(string Key, int[] Values)>();
        foreach (var axis in sweepWords.SelectMany(word => word.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
        {
            sweep.Add(ParseAxis(axis, sweep));
        }

        single = single with { Fault = FaultPlan.Parse(fault, single.Validators, single.DurationSeconds) };
        if (single.Fault is not null && (single.InProcess || sweep.Count > 0))
        {
            throw new UsageException("--fault kills or stops a validator process: it takes neither --in-process nor --sweep");
        }

        if (single.Workload is not (ClusterSettings.NoopWorkload or ClusterSettings.IdosWorkload))
        {
            throw new UsageException($"--workload {single.Workload} is not known: noop (32-byte commands, nothing signed or executed) or idos (signed idOS writes through the RPC system)");
        }

        var runs = new List<ClusterSettings> { single };
        foreach (var (key, values) in sweep)
        {
            runs = [.. runs.SelectMany(run => values.Select(value => key switch
            {
                "validators" => run with { Validators = value },
                "batch" => run with { Batch = value },
                "payload" => run with { Payload = value },
                "clients" => run with { Clients = value },
                _ => run with { Outstanding = value },
            }))];
        }

        if (single.IsIdos)
        {
            if (runs.Any(r => r.Payload != 0))
            {
                throw new UsageException("--payload sizes the noop workload's commands; the idos workload's transactions carry 1 KiB of ciphertext");
            }

            if (runs.FirstOrDefault(r => r.TotalOutstanding > MaxIdosUsers) is { } many)
            {
                throw new UsageException($"{many.TotalOutstanding} idOS users (--clients × --outstanding) is more than the {MaxIdosUsers} the benchmark registers");
            }

            return new ClusterCommand(Passes(runs, repeat), output, sweep.Count > 0, repeat, speedProbe);
        }

        // Each client subscribes to its validator's commit feed, which serves a bounded number of subscribers.
        if (runs.FirstOrDefault(r => (r.Clients + r.Validators - 1) / r.Validators > Actors.CommitFeedActor.MaxSubscribers) is { } crowded)
        {
            throw new UsageException($"{crowded.Clients} clients on {crowded.Validators} validators is more than the {Actors.CommitFeedActor.MaxSubscribers} " +
                "commit-feed subscribers a validator serves; use fewer clients with more --outstanding each");
        }

        return new ClusterCommand(Passes(runs, repeat), output, sweep.Count > 0, repeat, speedProbe);
    }

    private static List<ClusterSettings> Passes(List<ClusterSettings> grid, int repeat) => [.. Enumerable.Repeat(grid, repeat).SelectMany(pass => pass)];

    private static (string Key, int[] Values) ParseAxis(string axis, List<(string Key, int[] Values)> earlier)
    {
        var parts = axis.Split('=', 2);
        if (parts.Length != 2 || !SweepBounds.TryGetValue(parts[0], out var bounds))
        {
            throw new UsageException($"--sweep takes key=v1,v2,... with keys {string.Join(", ", SweepKeys)}; got '{axis}'");
        }

        if (earlier.Any(e => e.Key == parts[0]))
        {
            throw new UsageException($"--sweep names {parts[0]} twice");
        }

        var (min, max) = bounds;
        var values = parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(text =>
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
                ? value
                : throw new UsageException($"--sweep {parts[0]} takes whole numbers from {min} to {max}; got '{text}'")).ToArray();
        return values.Length > 0 ? (parts[0], values) : throw new UsageException($"--sweep {parts[0]} has no values");
    }
}
