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
    public const string Usage = """
        cluster [--validators 4] [--batch 400] [--payload 0] [--clients 8] [--outstanding 400] [--duration 30]
                [--warmup 5] [--in-process] [--insecure] [--workload noop|idos] [--out DIR] [--repeat 1] [--speed-probe 2]
                [--idle-interval MS] [--fault kill:V@Ts[+Rs]|pause:V@Ts[+Ds]|partition:V@Ts[+Ds]]
                [--sweep batch=1,100,400,800 validators=4,7,10]
          closed-loop clients against a local cluster: committed commands/s, blocks/s, submit-to-commit latency,
          CPU per 1,000 commands; results as JSON and CSV in DIR (and PNG plots for a sweep)
          --repeat N: every run N times, the grid's passes one after another; prints each point's median run and its
            spread across the passes (plots use the median runs)
          --insecure: Akka.Remote over plain TCP instead of mutual TLS (every node runs with idos.node.insecure = on),
            to measure what TLS costs
          --workload noop: 32-byte commands (+ --payload bytes) straight to the validators, nothing signed or executed
          --workload idos: each of --clients × --outstanding users sends signed idOS writes (EIP-191 add_attribute and
            add_credential, 1 KiB ciphertext) through the RPC system with user.broadcast sync=1, one at a time
          --idle-interval MS: the nodes' idos.consensus.idle-interval (default: node.conf's, 1 s); 0 never waits, to
            measure what resting costs a transaction that arrives on an idle chain (e.g. --clients 1 --outstanding 1)
          --fault: kill -9 validator V (1..n) T s into the measured window (restarted R s later if +Rs is given),
            SIGSTOP it for D s (default 10), or cut it off from the others for D s (default 10; every validator then
            runs behind a TCP fault proxy, in this process); prints committed cmd/s and latency before the fault, in its
            first 10 s and after, and how long a restarted, resumed or healed validator took to be back at the head
            (processes only)
          --speed-probe S: seconds of ed25519 verifications on every core before and after each run, reported beside the
            figures as the machine's speed at the time (0: none)
        cluster --replot DIR
          draws a finished sweep's plots again from DIR/results.json
        """;

    /// <summary>The bounds of the options a sweep may vary, for the single options and the sweep's values alike.</summary>
    private static readonly Dictionary<string, (int Min, int Max)> SweepBounds = new(StringComparer.Ordinal)
    {
        ["validators"] = (1, 64),
        // The protocol's default block limit, which the clients' own system decodes committed blocks with.
        ["batch"] = (1, 10_000),
        ["payload"] = (0, 64 * 1024),
        ["clients"] = (1, 256),
        ["outstanding"] = (1, 100_000),
    };

    private static IEnumerable<string> SweepKeys => SweepBounds.Keys;

    /// <summary>Each idOS user is registered (a user and its wallet) before the run; this bounds that setup.</summary>
    public const int MaxIdosUsers = 20_000;

    public static ClusterCommand Parse(IReadOnlyList<string> args)
    {
        var (plain, sweep) = SplitSweep(args);
        var options = new CommandLineOptions(plain, new HashSet<string>(["in-process", "insecure"], StringComparer.Ordinal));
        int Varied(string key, int fallback) => (int)options.Number(key, fallback, SweepBounds[key].Min, SweepBounds[key].Max);
        var single = new ClusterSettings(
            Validators: Varied("validators", 4),
            Batch: Varied("batch", 400),
            Payload: Varied("payload", 0),
            Clients: Varied("clients", 8),
            Outstanding: Varied("outstanding", 400),
            DurationSeconds: (int)options.Number("duration", 30, 1, 3_600),
            WarmupSeconds: (int)options.Number("warmup", 5, 0, 600),
            InProcess: options.Flag("in-process"),
            Workload: options.Text("workload", "noop"),
            Insecure: options.Flag("insecure"),
            IdleIntervalMs: options.Number("idle-interval", -1, -1, 600_000) is var idle and >= 0 ? idle : null);
        var fault = options.Text("fault", "");
        var output = options.Text("out", Path.Combine("bench-results", $"cluster-{DateTime.UtcNow:yyyyMMdd-HHmmss}"));
        var repeat = (int)options.Number("repeat", 1, 1, 20);
        var speedProbe = TimeSpan.FromSeconds(options.Number("speed-probe", 2, 0, 60));
        options.RejectUnknown();
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

    /// <summary>`--sweep` takes every following `key=v1,v2` word, so the grid reads as the user typed it.</summary>
    private static (List<string> Options, List<(string Key, int[] Values)> Sweep) SplitSweep(IReadOnlyList<string> args)
    {
        var rest = new List<string>();
        var sweep = new List<(string Key, int[] Values)>();
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] != "--sweep")
            {
                rest.Add(args[i]);
                continue;
            }

            if (sweep.Count > 0)
            {
                throw new UsageException("option --sweep given twice");
            }

            while (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                foreach (var axis in args[++i].Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    sweep.Add(ParseAxis(axis, sweep));
                }
            }

            if (sweep.Count == 0)
            {
                throw new UsageException("--sweep needs at least one key=v1,v2,... (keys: " + string.Join(", ", SweepKeys) + ")");
            }
        }

        return (rest, sweep);
    }

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
