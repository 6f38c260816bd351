using System.Globalization;
using System.Runtime.InteropServices;
using Akka.Configuration;
using IdOS.Akka.Engine.Hosting;
using AkkaCluster = Akka.Cluster.Cluster;

namespace IdOS.Akka.Engine.Cli;

/// <summary>`run`: one validator in the foreground, a status line a second, a clean stop on Ctrl-C or SIGTERM.</summary>
public static class RunCommand
{
    public const string Usage = """
        run --config FILE [--application idos|opaque] [--joined-by-governance]
          runs one validator: FILE (HOCON) is layered over the built-in hocon/node.conf; paths in it are relative to
          the working directory; --application overrides idos.node.application; --joined-by-governance sets
          idos.node.joined-by-governance (a key genesis does not list, joining through `validator join`); prints a
          status line every second; Ctrl-C or SIGTERM stops it cleanly
        """;

    public static async Task<int> Run(IReadOnlyList<string> args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var options = new CommandLineOptions(args, new HashSet<string>(StringComparer.Ordinal) { "joined-by-governance" });
        var path = options.Text("config", "");
        var application = options.Text("application", "");
        var joining = options.Flag("joined-by-governance");
        options.RejectUnknown();
        if (path.Length == 0)
        {
            throw new UsageException("run needs --config FILE");
        }

        ValidatorNode node;
        try
        {
            var config = NodeConfig.Load(path);
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
        await output.WriteLineAsync($"{who} of chain {node.Chain.ChainId} at {AkkaCluster.Get(node.System).SelfAddress}, data in {node.DataDirectory}");
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
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"height={status.Height} executed={status.ExecutedHeight} round={status.Round} committed_tx={status.CommittedTransactions} tx/s={perSecond} pending={status.PendingTransactions} peers={status.PeersConnected}/{status.SetSize - (status.Voting ? 1 : 0)} rejected={status.RejectedMessages} head={status.LastBlockId.ToShortString()} epoch={status.Epoch} set={status.SetSize}{(status.Voting ? "" : " observing")}"));
                    await output.FlushAsync(CancellationToken.None);
                }
                catch (Exception e) when (e is TimeoutException or global::Akka.Actor.AskTimeoutException)
                {
                    await output.WriteLineAsync("status: the consensus actor did not answer within 1 s");
                }
            }
        }
        catch (OperationCanceledException)
        {
            await output.WriteLineAsync("stopping");
        }

        await node.DisposeAsync();
        await output.WriteLineAsync("stopped");
        return exitCode;
    }
}
