using System.CommandLine;
using IdOS.Akka.Engine.Cli;

namespace IdOS.Akka.Engine.Bench.Cluster;

/// <summary>The cluster benchmark's options on System.CommandLine, with the help text researchers read.</summary>
internal sealed class ClusterOptions
{
    private readonly Option<int> _validators = Varied("validators", 4, "validators on 127.0.0.1");
    private readonly Option<int> _batch = Varied("batch", 400, "block size: most commands in a block");
    private readonly Option<int> _payload = Varied("payload", 0, "bytes added to each 32-byte noop command");
    private readonly Option<int> _clients = Varied("clients", 8, "closed-loop clients");
    private readonly Option<int> _outstanding = Varied("outstanding", 400, "commands each client keeps in flight (libhotstuff's max-async)");
    private readonly Option<int> _duration = CommandLineApp.Count("--duration", "seconds measured", 30, 1, 3_600);
    private readonly Option<int> _warmup = CommandLineApp.Count("--warmup", "seconds of load before the measured window", 5, 0, 600);
    private readonly Option<bool> _inProcess = CommandLineApp.Flag("--in-process", "every validator in this process instead of one process each");
    private readonly Option<bool> _insecure = CommandLineApp.Flag("--insecure", "Akka.Remote over plain TCP instead of mutual TLS, to measure what TLS costs");
    private readonly Option<string> _workload = CommandLineApp.Text("--workload", "noop: 32-byte commands (+ --payload) straight to the validators, " +
        "nothing signed or executed; idos: each of --clients × --outstanding users sends signed idOS writes (EIP-191 add_attribute and " +
        "add_credential, 1 KiB ciphertext) through the RPC system with user.broadcast sync=1, one at a time", ClusterSettings.NoopWorkload, "noop|idos");
    private readonly Option<long?> _idleInterval = CommandLineApp.OptionalNumber("--idle-interval", "the nodes' idos.consensus.idle-interval in ms " +
        "(default: node.conf's, 1 s); 0 never waits, to measure what resting costs a transaction that arrives on an idle chain", 0, 600_000, "MS");
    private readonly Option<string> _fault = CommandLineApp.Text("--fault", "kill -9 validator V (1..n) T s into the measured window (restarted R s " +
        "later with +Rs), SIGSTOP it for D s (default 10), or cut it off from the others for D s behind a TCP fault proxy; prints committed cmd/s " +
        "and latency before the fault, in its first 10 s and after, and how long the validator took to be back at the head (processes only)", "",
        "kill:V@Ts[+Rs]|pause:V@Ts[+Ds]|partition:V@Ts[+Ds]");
    private readonly Option<string[]> _sweep = new("--sweep")
    {
        Description = "a grid of runs: every combination of the values, e.g. batch=1,100,400,800 validators=4,7,10 (keys: " +
            string.Join(", ", ClusterCommand.SweepKeys) + ")",
        AllowMultipleArgumentsPerToken = true,
        Arity = ArgumentArity.OneOrMore,
        HelpName = "key=v1,v2,...",
    };

    private readonly Option<string> _output = CommandLineApp.Text("--out", "where results go as JSON and CSV (and PNG plots for a sweep)",
        Path.Combine("bench-results", $"cluster-{DateTime.UtcNow:yyyyMMdd-HHmmss}"), "DIR");

    private readonly Option<int> _repeat = CommandLineApp.Count("--repeat", "every run N times, the grid's passes one after another; prints each " +
        "point's median run and its spread across the passes (plots use the median runs)", 1, 1, 20);

    private readonly Option<int> _speedProbe = CommandLineApp.Count("--speed-probe", "seconds of ed25519 verifications on every core before and " +
        "after each run, reported beside the figures as the machine's speed at the time (0: none)", 2, 0, 60);

    private readonly Option<string> _replot = CommandLineApp.Text("--replot", "draw a finished sweep's plots again from DIR/results.json, and " +
        "run nothing", "", "DIR");

    public Option<string> Replot => _replot;

    public Command Command() => new("cluster", "Closed-loop clients against a local cluster, as libhotstuff's own benchmark: committed commands/s, " +
        "blocks/s, submit-to-commit latency, CPU per 1,000 commands.")
    {
        _validators, _batch, _payload, _clients, _outstanding, _duration, _warmup, _inProcess, _insecure, _workload, _idleInterval, _fault, _sweep,
        _output, _repeat, _speedProbe, _replot,
    };

    public ClusterCommand Read(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var single = new ClusterSettings(
            Validators: parse.GetValue(_validators),
            Batch: parse.GetValue(_batch),
            Payload: parse.GetValue(_payload),
            Clients: parse.GetValue(_clients),
            Outstanding: parse.GetValue(_outstanding),
            DurationSeconds: parse.GetValue(_duration),
            WarmupSeconds: parse.GetValue(_warmup),
            InProcess: parse.GetValue(_inProcess),
            Workload: parse.GetValue(_workload)!,
            Insecure: parse.GetValue(_insecure),
            IdleIntervalMs: parse.GetValue(_idleInterval));
        return ClusterCommand.From(single, parse.GetValue(_fault)!, parse.GetValue(_sweep) ?? [], parse.GetValue(_output)!, parse.GetValue(_repeat),
            TimeSpan.FromSeconds(parse.GetValue(_speedProbe)));
    }

    private static Option<int> Varied(string key, int fallback, string description)
    {
        var (min, max) = ClusterCommand.SweepBounds[key];
        return CommandLineApp.Count("--" + key, description + " (a --sweep key)", fallback, min, max);
    }
}
