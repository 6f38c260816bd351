using Akka.Configuration;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>
/// Keys and genesis for a network whose node files already exist (localnet, tests): every key a node file names is
/// created if missing, with its TLS certificate beside it, and so is every RPC member certificate the node files
/// list by file; the genesis file they all name is written from those keys and the pins they sign, in node order
/// (leaving out the nodes that join by governance, `joined-by-governance = on`), or
/// checked against them when it is already there, so a half-reset folder fails with a reason instead of a silent fork.
/// The idOS database owner (Kwil's `db_owner`) is an ed25519 key kept beside genesis, so that the localnet can
/// register inserters.
/// </summary>
public static class LocalNetwork
{
    public static ChainParameters Prepare(IReadOnlyList<Config> nodes, string chainId, string ownerKeyFile, long snapshotInterval = ChainParameters.DefaultSnapshotInterval)
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

        var identities = nodes.Select(Identity).ToList();
        var validators = identities.Where((_, i) => !nodes[i].GetBoolean($"{NodeSettings.Section}.joined-by-governance", false)).ToList();
        foreach (var node in nodes)
        {
            CreateRpcMemberCertificates(node);
        }

        var owner = (File.Exists(ownerKeyFile) ? KeyFiles.ReadPublic(ownerKeyFile) : KeyFiles.Generate(ownerKeyFile)).ToString();
        var genesis = genesisPaths[0];
        if (!File.Exists(genesis))
        {
            return GenesisFile.Write(genesis, chainId, DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), validators, owner,
                snapshotInterval: snapshotInterval);
        }

        var chain = GenesisFile.Read(genesis);
        var listed = GenesisFile.ReadValidators(genesis);
        var matches = listed.Count == validators.Count && chain.DatabaseOwner == owner
            && validators.Select((validator, i) => listed[i].Key.Equals(validator.Key)
                && validator.TlsPins.All(own => listed[i].TlsPins.Any(pin => pin.Pin == own.Pin))).All(x => x);
        return matches
            ? chain
            : throw new NodeFileException($"{genesis} was made for other validator, TLS or owner keys than the node files and {ownerKeyFile} name; remove the network's data folder to start afresh.");
    }

    /// <summary>
    /// How a client of the network's validators (the localnet's RPC system and status client, a test, a benchmark)
    /// connects: as the first RPC member <paramref name="node"/> lists by certificate file, accepting the validators
    /// by their genesis pins; plain TCP when the node runs insecure.
    /// </summary>
    public static TransportSecurity MemberTransport(Config node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (node.GetBoolean($"{NodeSettings.Section}.insecure", false))
        {
            return TransportSecurity.Insecure;
        }

        var certificate = RpcMemberCertificates(node).FirstOrDefault()
            ?? throw new ConfigurationException($"{NodeSettings.Section}.rpc-members lists no member by certificate-file for the local client to connect as.");
        return TransportSettings.ForRpc(ConfigurationFactory.ParseString($$"""
            member.genesis-file = "{{Required(node, "genesis-file")}}"
            member.tls.certificate-file = "{{certificate}}"
            """), "member");
    }

    /// <summary>A node's key and TLS identity, each created where missing; with insecure = on, the key alone.</summary>
    private static GenesisValidator Identity(Config node)
    {
        var keyFile = Required(node, "key-file");
        if (!File.Exists(keyFile))
        {
            KeyFiles.Generate(keyFile);
        }

        using var key = KeyFiles.ReadPrivate(keyFile);
        if (node.GetBoolean($"{NodeSettings.Section}.insecure", false))
        {
            return new GenesisValidator(key.PublicKey, []);
        }

        var certificate = node.GetString($"{NodeSettings.Section}.tls.certificate-file", "") is { Length: > 0 } configured
            ? configured
            : KeyFiles.TlsCertificateBeside(keyFile);
        var pin = File.Exists(certificate)
            ? TlsFiles.PinOf(certificate)
            : TlsFiles.Generate(certificate, TlsFiles.KeyFileOf(certificate), $"idos validator {key.PublicKey.ToString()[..16]}");
        return new GenesisValidator(key.PublicKey, [SignedTlsPin.Sign(key, pin)]);
    }

    private static void CreateRpcMemberCertificates(Config node)
    {
        foreach (var certificate in RpcMemberCertificates(node).Where(path => !File.Exists(path)))
        {
            TlsFiles.Generate(certificate, TlsFiles.KeyFileOf(certificate), "idos rpc member");
        }
    }

    private static IEnumerable<string> RpcMemberCertificates(Config node)
    {
        var path = $"{NodeSettings.Section}.rpc-members";
        return node.HasPath(path)
            ? node.GetValue(path).GetArray().Where(v => v.IsObject())
                .Select(v => v.GetObject().Items.TryGetValue("certificate-file", out var file) && file.IsString() ? file.GetString() : "")
                .Where(file => file.Length > 0)
            : [];
    }

    private static string Required(Config node, string key)
    {
        var value = node.GetString($"{NodeSettings.Section}.{key}", null);
        return string.IsNullOrWhiteSpace(value) ? throw new ConfigurationException($"{NodeSettings.Section}.{key} is not set.") : value;
    }
}
