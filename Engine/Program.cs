using IdOS.Akka.Engine.Cli;
using IdOS.Akka.Engine.Cli.Localnet;

namespace IdOS.Akka.Engine;

internal static class Program
{
    private const string Usage = $"""
        usage: idos-engine <command> [options]

        commands:
          {KeyCommands.KeygenUsage}
          {KeyCommands.GenesisUsage}
          {RunCommand.Usage}
          {LocalnetCommand.Usage}
          {RpcCommand.Usage}
          {ValidatorCommand.Usage}
          {StatusCommand.Usage}
        """;

    private static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        try
        {
            return args[0] switch
            {
                "simulate" => throw new UsageException(
                    "the simulator is its own executable: dotnet run --project Engine.Simulation -c Release -- --validators 4 --seeds 200 --scenario all"),
                "keygen" => KeyCommands.Keygen(args[1..], Console.Out),
                "genesis" => KeyCommands.Genesis(args[1..], Console.Out),
                "run" => RunCommand.Run(args[1..], Console.Out).GetAwaiter().GetResult(),
                "localnet" => LocalnetCommand.Run(args[1..], Console.Out).GetAwaiter().GetResult(),
                "rpc" => RpcCommand.Run(args[1..], Console.Out).GetAwaiter().GetResult(),
                "validator" => ValidatorCommand.Run(args[1..], Console.Out).GetAwaiter().GetResult(),
                "status" => StatusCommand.Run(args[1..], Console.Out).GetAwaiter().GetResult(),
                _ => throw new UsageException($"unknown command '{args[0]}'"),
            };
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine();
            Console.Error.WriteLine(Usage);
            return 2;
        }
        catch (Exception e) when (e is Hosting.NodeFileException or global::Akka.Configuration.ConfigurationException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
