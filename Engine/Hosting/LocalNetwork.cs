using Akka.Configuration;
using IdOS.Akka.Engine.Consensus;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>
/// Keys and genesis for a network whose node files already exist (localnet, tests): every key a node file names is
/// created if missing, and the genesis file they all name is written from those keys in node order, or checked
/// against them when it is already there, so a half-reset folder fails with a reason instead of a silent fork.
/// The idOS database owner (Kwil's `db_owner`) is an ed25519 key kept beside genesis, so that the localnet can
/// register inserters.
/// </summary>
public static class LocalNetwork
{
    public static ChainParameters Prepare(IReadOnlyList<Config> nodes, string chainId, string ownerKeyFile)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(ownerKeyFile);
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.Count == 0)
        {
            throw new ConfigurationException("A network needs at least one node.");
        }

        var genesisPaths = nodes.Select(n => Required(n, "genesis-file")).Distinct(StringComparer.Ordinal).ToList();
        if (genesisPaths.Count != 1)
        {
            throw new ConfigurationException($"The nodes name different genesis files ({string.Join(", ", genesisPaths)}); a network shares one.");
        }

        var keys = nodes.Select(n =>
        {
            var keyFile = Required(n, "key-file");
            return File.Exists(keyFile) ? KeyFiles.ReadPublic(keyFile) : KeyFiles.Generate(keyFile);
        }).ToList();

        var owner = (File.Exists(ownerKeyFile) ? KeyFiles.ReadPublic(ownerKeyFile) : KeyFiles.Generate(ownerKeyFile)).ToString();
        var genesis = genesisPaths[0];
        if (!File.Exists(genesis))
        {
            return GenesisFile.Write(genesis, chainId, DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), keys, owner);
        }

        var chain = GenesisFile.Read(genesis);
        var matches = chain.Validators.Count == keys.Count && keys.Select((key, i) => chain.Validators[i].Equals(key)).All(x => x)
            && chain.DatabaseOwner == owner;
        return matches
            ? chain
            : throw new NodeFileException($"{genesis} was made for other validator or owner keys than the node files and {ownerKeyFile} name; remove the network's data folder to start afresh.");
    }

    private static string Required(Config node, string key)
    {
        var value = node.GetString($"{NodeSettings.Section}.{key}", null);
        return string.IsNullOrWhiteSpace(value) ? throw new ConfigurationException($"{NodeSettings.Section}.{key} is not set.") : value;
    }
}
