using System.CommandLine;
using System.Runtime.InteropServices;
using Akka.Configuration;
using IdOS.Akka.Engine.Hosting;
using AkkaCluster = Akka.Cluster.Cluster;

namespace IdOS.Akka.Engine.Cli;

/// <summary>`run`: one validator in the foreground, a status line a second, a clean stop on Ctrl-C or SIGTERM.</summary>
public static class RunCommand
{
    public static Command Definition()
    {
        var config = CommandLineApp.Required("--config", "the node's HOCON file, layered over the built-in hocon/node.conf; paths in it are relative " +
            "to the working directory", "FILE");
        var application = CommandLineApp.Choice("--application", "overrides idos.node.application", null, "idos", "opaque");
        var joining = CommandLineApp.Flag("--joined-by-governance", "sets idos.node.joined-by-governance: a key genesis does not list, joining " +
            "through `validator join`");
        var logFormat = CommandLineApp.Choice("--log-format", "json writes every log event and status line as one JSON object per line, at " +
            "akka.loglevel (default: idos.node.log-format)", null, "text", "json");
        var command = new Command("run", "Runs one validator in the foreground, with a status line every second; Ctrl-C or SIGTERM stops it cleanly.")
        {
            config, application, joining, logFormat,
        };
        command.SetAction(parse => Run(parse.GetValue(config)!, parse.GetValue(application) ?? "", parse.GetValue(joining), parse.GetValue(logFormat) ?? "",
            parse.Output()));
        return command;
    }

    private static async Task<int> Run(string path, string application, bool joining, string logFormat, TextWriter output)
    {
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
