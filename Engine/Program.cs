using System.CommandLine;
using IdOS.Akka.Engine.Cli;
using IdOS.Akka.Engine.Cli.Localnet;

namespace IdOS.Akka.Engine;

internal static class Program
{
    private static Task<int> Main(string[] args) => CommandLineApp.Invoke(Root(), args);

    internal static RootCommand Root()
    {
        var root = new RootCommand("idOS storage-network node: validators agreeing on every write by HotStuff consensus, the Kwil JSON-RPC idOS clients " +
            "speak, and the tools to run them.")
        {
            KeyCommands.KeygenCommand(),
            KeyCommands.GenesisCommand(),
            RunCommand.Definition(),
            LocalnetCommand.Definition(),
            RpcCommand.Definition(),
            ValidatorCommand.Definition(),
            StatusCommand.Definition(),
            CompletionCommand.Definition(),
        };
        var simulate = new Command("simulate", "The consensus simulator is an executable of its own: dotnet run --project Engine.Simulation -c Release " +
            "-- --help") { Hidden = true };
        simulate.SetAction(int (_) => throw new UsageException(
            "the simulator is its own executable: dotnet run --project Engine.Simulation -c Release -- --validators 4 --seeds 200 --scenario all"));
        root.Subcommands.Add(simulate);
        return root;
    }
}
