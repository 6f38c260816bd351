using System.Runtime.InteropServices;
using Akka.Configuration;
using IdOS.Akka.Engine.Hosting;
using AkkaCluster = Akka.Cluster.Cluster;

namespace IdOS.Akka.Engine.Cli;

/// <summary>`run`: one validator in the foreground, a status line a second, a clean stop on Ctrl-C or SIGTERM.</summary>
public static class RunCommand
{
    public const string Usage = """
        run --config FILE [--application idos|opaque] [--joined-by-governance] [--log-format text|json]
          runs one validator: FILE (HOCON) is layered over the built-in hocon/node.conf; paths in it are relative to
          the working directory; --application overrides idos.node.application; --joined-by-governance sets
          idos.node.joined-by-governance (a key genesis does not list, joining through `validator join`); prints a
          status line every second; --log-format json (or idos.node.log-format) writes every log event and status
          line as one JSON object per line, at akka.loglevel; Ctrl-C or SIGTERM stops it cleanly
        """;

    public static async Task<int> Run(IReadOnlyList<string> args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var options = new CommandLineOptions(args, new HashSet<string>(StringComparer.Ordinal) { "joined-by-governance" });
        var path = options.Text("config", "");
        var application = options.Text("application", "");
        var joining = options.Flag("joined-by-governance");
        var logFormat = options.Text("log-format", "");
        options.RejectUnknown();
        if (path.Length == 0)
        {
            throw new UsageException("run needs --config FILE");
        }

        ValidatorNode node;
        Serilog.ILogger lines;
        try
        {
            var config = NodeConfig.Load(path);
            (config, lines) = NodeLogging.Configure(config, logFormat, output);
            if (application.Length > 0)
            {
                config = ConfigurationFactory.ParseString($"idos.node.application = \"{application}\"").WithFallback(config);
            }

            if (joining)
            {
                config = ConfigurationFactory.ParseString("idos.node.joined-by-governance = on").WithFallback(config);
            }

            node = ValidatorNode.Start(config);
        }
        catch (ConfigurationException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            return 1;
        }

        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
        var who = node.Validator >= 0 ? $"validator {node.Validator}" : "a validator outside genesis (joining by governance)";
        lines.Information("{Who} of chain {ChainId} at {Address}, data in {DataDirectory}", who, node.Chain.ChainId, AkkaCluster.Get(node.System).SelfAddress.ToString(),
            node.DataDirectory);
        await output.FlushAsync(CancellationToken.None);

        var exitCode = 0;
        (long Count, TimeSpan At)? lastCommitted = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                if (node.System.WhenTerminated.IsCompleted)
                {
                    await Console.Error.WriteLineAsync("error: the node's actor system stopped (see the log above); exiting.");
                    exitCode = 1;
                    break;
                }

                try
                {
                    var status = await node.StatusAsync(TimeSpan.FromSeconds(1));
                    var now = clock.Elapsed;
                    var perSecond = lastCommitted is { } last && now > last.At
                        ? (long)((status.CommittedTransactions - last.Count) / (now - last.At).TotalSeconds)
                        : 0;
                    lastCommitted = (status.CommittedTransactions, now);
                    lines.Information("height={Height} executed={Executed} round={Round} committed_tx={Committed} tx/s={PerSecond} pending={Pending} peers={Peers}/{PeersOfSet} " +
                        "rejected={Rejected} head={Head} epoch={Epoch} set={SetSize}{Observing}", status.Height, status.ExecutedHeight, status.Round,
                        status.CommittedTransactions, perSecond, status.PendingTransactions, status.PeersConnected, status.SetSize - (status.Voting ? 1 : 0),
                        status.RejectedMessages, status.LastBlockId.ToShortString(), status.Epoch, status.SetSize, status.Voting ? "" : " observing");
                    await output.FlushAsync(CancellationToken.None);
                }
                catch (Exception e) when (e is TimeoutException or global::Akka.Actor.AskTimeoutException)
                {
                    lines.Warning("status: the consensus actor did not answer within 1 s");
                }
            }
        }
        catch (OperationCanceledException)
        {
            lines.Information("stopping");
        }

        await node.DisposeAsync();
        lines.Information("stopped");
        await output.FlushAsync(CancellationToken.None);
        await Serilog.Log.CloseAndFlushAsync();
        return exitCode;
    }
}
