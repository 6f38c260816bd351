using System.CommandLine;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Akka.Configuration;
using IdOS.Akka.Engine.Gateway;
using IdOS.Akka.Engine.Hosting;

namespace IdOS.Akka.Engine.Cli;

/// <summary>`rpc`: the Kwil JSON-RPC system on its own, in front of running validators, until Ctrl-C or SIGTERM.</summary>
public static class RpcCommand
{
    public static Command Definition()
    {
        var config = CommandLineApp.Required("--config", "the RPC system's HOCON file (hocon/rpc.conf: idos.rpc.listen, validators, limits and " +
            "timeouts)", "FILE");
        var command = new Command("rpc", "Serves Kwil JSON-RPC (POST /rpc/v1, what the idOS client speaks) and the explorer in front of the validators " +
            "the file lists, until Ctrl-C or SIGTERM.")
        {
            config,
        };
        command.SetAction(parse => Run(parse.GetValue(config)!, parse.Output()));
        return command;
    }

    private static async Task<int> Run(string path, TextWriter output)
    {
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
