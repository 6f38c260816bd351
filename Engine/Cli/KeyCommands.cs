using System.CommandLine;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Cli;

/// <summary>`keygen` and `genesis`: what operators run once, before a network's first start.</summary>
public static class KeyCommands
{
    public static Command KeygenCommand()
    {
        var output = CommandLineApp.Required("--out", "where the key (or certificate) goes; never overwritten", "FILE");
        var tls = CommandLineApp.Flag("--tls", "a new TLS certificate and key for the validator whose key --key holds; prints the pin signed by that key, " +
            "the entry to add to the validator's tls_pins in genesis to rotate its certificate");
        var rpc = CommandLineApp.Flag("--rpc", "an RPC system's TLS certificate (--out FILE.crt, its key FILE.key); prints the pin the validators' " +
            "operators list in idos.node.rpc-members");
        var key = CommandLineApp.Text("--key", "with --tls: the validator key file that signs the new certificate's pin", "", "FILE");
        var command = new Command("keygen", "Writes a new validator key to --out (owner-readable only), its TLS certificate and key to tls.crt and " +
            "tls.key in the same folder, and to FILE.pub the public key with the certificate's pin signed by the key (what genesis lists).")
        {
            output, tls, rpc, key,
        };
        command.SetAction(parse => Keygen(parse.GetValue(output)!, parse.GetValue(tls), parse.GetValue(rpc), parse.GetValue(key)!, parse.Output()));
        return command;
    }

    public static Command GenesisCommand()
    {
        var validators = CommandLineApp.Required("--validators", "the validators' .pub files, comma-separated; their order fixes the indices", "A.pub,B.pub,...");
        var output = CommandLineApp.Required("--out", "the genesis file to write", "FILE");
        var chainId = CommandLineApp.Text("--chain-id", "the chain's name", "idos-akka-localnet", "ID");
        var time = CommandLineApp.Text("--genesis-time", "the genesis time, e.g. 2026-11-23T00:00:00.000Z (default: now)", "", "TIME");
        var owner = CommandLineApp.Text("--db-owner", "the idOS database owner: an ed25519 public key in hex, or an EVM address", "", "KEY");
        var leaders = CommandLineApp.Choice("--leaders", "reputation: leaders drawn from committed history, so a validator that is down soon stops " +
            "leading; rotation: each in turn, and each round a down validator leads is lost", "reputation", "reputation", "rotation");
        var interval = CommandLineApp.Number("--snapshot-interval", "blocks between snapshots of the idOS state, which new nodes sync from (0: none)",
            ChainParameters.DefaultSnapshotInterval, 0, long.MaxValue);
        var command = new Command("genesis", "Writes the genesis file all nodes share, each validator with the TLS pins its .pub file signs.")
        {
            validators, output, chainId, time, owner, leaders, interval,
        };
        command.SetAction(parse => Genesis(parse.GetValue(validators)!, parse.GetValue(output)!, parse.GetValue(chainId)!, parse.GetValue(time)!,
            parse.GetValue(owner)!, parse.GetValue(leaders) == "rotation" ? LeaderReputationPolicy.Off : null, parse.GetValue(interval), parse.Output()));
        return command;
    }

    public static int Keygen(IReadOnlyList<string> args, TextWriter output) => CommandLineApp.Run(KeygenCommand(), args, output).GetAwaiter().GetResult();

    public static int Genesis(IReadOnlyList<string> args, TextWriter output) => CommandLineApp.Run(GenesisCommand(), args, output).GetAwaiter().GetResult();

    private static int Keygen(string path, bool tls, bool rpc, string validatorKey, TextWriter output)
    {
        if (tls)
        {
            if (validatorKey.Length == 0)
            {
                throw new UsageException("keygen --tls needs --key FILE, the validator key that signs the new certificate's pin");
            }

            using var key = KeyFiles.ReadPrivate(validatorKey);
            var signed = SignedTlsPin.Sign(key, TlsFiles.Generate(path, TlsFiles.KeyFileOf(path), $"idos validator {key.PublicKey.ToString()[..16]}"));
            output.WriteLine($"TLS certificate written to {path}, its key to {TlsFiles.KeyFileOf(path)}; add to validator {key.PublicKey}'s tls_pins in genesis:");
            output.WriteLine($"{{ \"pin\": \"{signed.Pin}\", \"signature\": \"{Convert.ToHexStringLower(signed.Signature)}\" }}");
            return 0;
        }

        if (rpc)
        {
            var pin = TlsFiles.Generate(path, TlsFiles.KeyFileOf(path), "idos rpc member");
            output.WriteLine($"RPC TLS certificate written to {path}, its key to {TlsFiles.KeyFileOf(path)}; pin {pin}");
            return 0;
        }

        var validator = KeyFiles.GenerateValidator(path);
        output.WriteLine($"validator key written to {path}; public key {validator.Key} and TLS pin {validator.TlsPins[0].Pin} in {path}.pub; " +
            $"TLS certificate in {KeyFiles.TlsCertificateBeside(path)}");
        return 0;
    }

    private static int Genesis(string validators, string path, string chainId, string time, string owner, LeaderReputationPolicy? reputation, long snapshotInterval,
        TextWriter output)
    {
        var genesisTime = time.Length == 0
            ? DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())
            : DateTimeOffset.TryParse(time, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed
                : throw new UsageException($"--genesis-time '{time}' is not a date and time");
        var keys = validators.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(KeyFiles.ReadValidator)
            .ToList();
        var chain = GenesisFile.Write(path, chainId, genesisTime, keys, owner, reputation, snapshotInterval);
        output.WriteLine($"genesis written to {path}: chain {chain.ChainId}, {keys.Count} validators (f = {chain.Validators.MaxFaulty}), " +
            (chain.LeaderReputation.IsOn
                ? $"leaders by reputation over {chain.LeaderReputation.WindowBlocks} blocks ending {chain.LeaderReputation.ExcludeRounds} rounds back, "
                : "leaders in rotation, ") +
            $"{keys.Count(k => k.TlsPins.Count > 0)} with TLS pins, " +
            (chain.SnapshotInterval > 0 ? $"a state snapshot every {chain.SnapshotInterval} blocks, " : "no state snapshots, ") +
            $"genesis block {chain.GenesisBlock.Id}");
        return 0;
    }
}
