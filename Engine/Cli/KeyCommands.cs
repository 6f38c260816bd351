using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Cli;

/// <summary>`keygen` and `genesis`: what operators run once, before a network's first start.</summary>
public static class KeyCommands
{
    public const string KeygenUsage = """
        keygen --out FILE
          writes a new validator key to FILE (owner-readable only), its TLS certificate and key to tls.crt and tls.key
          in the same folder, and to FILE.pub the public key with the certificate's pin signed by the key (what
          genesis lists); never overwrites
        keygen --tls --key FILE --out NEW.crt
          writes a new TLS certificate and key (NEW.crt, NEW.key) for the validator whose key is in FILE, and prints
          the pin signed by that key: the entry to add to the validator's tls_pins in genesis to rotate its certificate
        keygen --rpc --out FILE.crt
          writes an RPC system's TLS certificate to FILE.crt and its key to FILE.key, and prints the pin the
          validators' operators list in idos.node.rpc-members; never overwrites
        """;

    public const string GenesisUsage = """
        genesis --validators A.pub,B.pub,... --out FILE [--chain-id ID] [--genesis-time 2026-11-23T00:00:00.000Z] [--db-owner KEY]
                [--leaders reputation|rotation] [--snapshot-interval BLOCKS]
          writes the genesis file all nodes share, each validator with the TLS pins its .pub file signs; validator
          order (which fixes indices) is the order given; --db-owner names the idOS database owner (an ed25519 public
          key in hex, or an EVM address); --leaders: drawn from committed history, so that a validator that is down
          soon stops leading (default), or in rotation, where each round a down validator leads is lost;
          --snapshot-interval: blocks between snapshots of the idOS state, which new nodes sync from (default 10000,
          0 for none)
        """;

    public static int Keygen(IReadOnlyList<string> args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var options = new CommandLineOptions(args, new HashSet<string>(StringComparer.Ordinal) { "rpc", "tls" });
        var path = options.Text("out", "");
        var rpc = options.Flag("rpc");
        var tls = options.Flag("tls");
        var validatorKey = options.Text("key", "");
        options.RejectUnknown();
        if (path.Length == 0)
        {
            throw new UsageException("keygen needs --out FILE");
        }

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

    public static int Genesis(IReadOnlyList<string> args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var options = new CommandLineOptions(args, new HashSet<string>(StringComparer.Ordinal));
        var validators = options.Text("validators", "");
        var path = options.Text("out", "");
        var chainId = options.Text("chain-id", "idos-akka-localnet");
        var time = options.Text("genesis-time", "");
        var owner = options.Text("db-owner", "");
        var leaders = options.Text("leaders", "reputation");
        var interval = options.Text("snapshot-interval", ChainParameters.DefaultSnapshotInterval.ToString(System.Globalization.CultureInfo.InvariantCulture));
        options.RejectUnknown();
        var snapshotInterval = long.TryParse(interval, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var blocks)
            ? blocks
            : throw new UsageException($"--snapshot-interval '{interval}' is not a number of blocks");
        var reputation = leaders switch
        {
            "reputation" => null,
            "rotation" => LeaderReputationPolicy.Off,
            _ => throw new UsageException($"--leaders '{leaders}' is neither reputation nor rotation"),
        };
        if (validators.Length == 0 || path.Length == 0)
        {
            throw new UsageException("genesis needs --validators A.pub,B.pub,... and --out FILE");
        }

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
