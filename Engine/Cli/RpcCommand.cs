using System.Net.Sockets;
using System.Runtime.InteropServices;
using Akka.Configuration;
using IdOS.Akka.Engine.Gateway;
using IdOS.Akka.Engine.Hosting;

namespace IdOS.Akka.Engine.Cli;

/// <summary>`rpc`: the Kwil JSON-RPC system on its own, in front of running validators, until Ctrl-C or SIGTERM.</summary>
public static class RpcCommand
{
    public const string Usage = """
        rpc --config FILE
          serves Kwil JSON-RPC (POST /rpc/v1, what the idOS client speaks) in front of the validators FILE lists
          (hocon/rpc.conf: idos.rpc.listen, validators, limits and timeouts); Ctrl-C or SIGTERM stops it
        """;

    public static async Task<int> Run(IReadOnlyList<string> args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var options = new CommandLineOptions(args, new HashSet<string>(StringComparer.Ordinal));
        var path = options.Text("config", "");
        options.RejectUnknown();
        if (path.Length == 0)
        {
            throw new UsageException("rpc needs --config FILE");
        }

        RpcHost host;
        try
        {
            host = await RpcHost.Start(RpcSettings.FromConfig(NodeConfig.Load(path)));
        }
        catch (IOException e) when (e.InnerException is SocketException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            throw new ConfigurationException($"{RpcSettings.Section}.listen cannot be bound: {e.Message}");
        }

        await using (host)
        {
            using var stop = new CancellationTokenSource();
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
            await output.WriteLineAsync($"Kwil JSON-RPC at {host.Endpoint}");
            await output.FlushAsync(CancellationToken.None);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                await output.WriteLineAsync("stopping");
            }
        }

        return 0;
    }
}
