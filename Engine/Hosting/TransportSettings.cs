using Akka.Configuration;
using Akka.Configuration.Hocon;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>
/// Reads who may talk to a system of ours over Akka.Remote from its HOCON: its own certificate, the validators'
/// pins from genesis (each signed by its validator key) and the RPC members its operator lists. Plain TCP only with
/// `insecure = on`.
/// </summary>
public static class TransportSettings
{
    /// <summary>
    /// A validator: every genesis validator's pins and the listed RPC members; its own certificate must be one genesis
    /// binds to it, unless it is not in genesis (<paramref name="index"/> -1: it joins by governance, with the pin it
    /// gave in its request).
    /// </summary>
    public static TransportSecurity ForValidator(Config config, string keyFile, IReadOnlyList<GenesisValidator> validators, int index)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(validators);
        const string section = NodeSettings.Section;
        if (config.GetBoolean($"{section}.insecure", false))
        {
            return TransportSecurity.Insecure;
        }

        var certificateFile = Path(config, $"{section}.tls.certificate-file", KeyFiles.TlsCertificateBeside(keyFile));
        var certificate = TlsFiles.Load(certificateFile, Path(config, $"{section}.tls.key-file", TlsFiles.KeyFileOf(certificateFile)));
        var ownPin = TlsPin.Of(certificate);
        if (index >= 0 && !validators[index].TlsPins.Any(signed => signed.Pin == ownPin))
        {
            certificate.Dispose();
            throw new ConfigurationException($"The TLS certificate {certificateFile} (pin {ownPin}) is not bound to validator {index} in genesis; " +
                $"genesis binds {(validators[index].TlsPins.Count == 0 ? "no pin" : string.Join(", ", validators[index].TlsPins.Select(p => p.Pin)))}. " +
                $"Check {section}.tls.certificate-file, or set {section}.insecure = on for a network without TLS.");
        }

        var accepted = RpcMembers(config, $"{section}.rpc-members");
        return TransportSecurity.PinnedTls(certificate, accepted, AddValidators(accepted, validators),
            validators.ToDictionary(v => v.Key, v => (IReadOnlyList<TlsPin>)[.. v.TlsPins.Select(signed => signed.Pin)]));
    }

    /// <summary>An RPC system: it talks to the validators alone, known by the pins genesis binds to them.</summary>
    public static TransportSecurity ForRpc(Config config, string section)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.GetBoolean($"{section}.insecure", false))
        {
            return TransportSecurity.Insecure;
        }

        var genesis = config.GetString($"{section}.genesis-file", "");
        if (string.IsNullOrWhiteSpace(genesis))
        {
            throw new ConfigurationException($"{section}.genesis-file is not set: the RPC system accepts the validators by the TLS pins genesis binds to them.");
        }

        var certificateFile = config.GetString($"{section}.tls.certificate-file", "");
        if (string.IsNullOrWhiteSpace(certificateFile))
        {
            throw new ConfigurationException($"{section}.tls.certificate-file is not set: `keygen --rpc --out FILE.crt` makes one, and the validators' operators list its pin.");
        }

        var certificate = TlsFiles.Load(certificateFile, Path(config, $"{section}.tls.key-file", TlsFiles.KeyFileOf(certificateFile)));
        var accepted = new Dictionary<TlsPin, string>();
        return TransportSecurity.PinnedTls(certificate, accepted, AddValidators(accepted, GenesisFile.ReadValidators(genesis)));
    }

    /// <summary>
    /// `[{ name = "...", pin = "64 hex digits" }, { name = "...", certificate-file = "rpc.crt" }]`: a member is named for
    /// the logs and known by its pin, given or read from its certificate.
    /// </summary>
    public static Dictionary<TlsPin, string> RpcMembers(Config config, string path)
    {
        ArgumentNullException.ThrowIfNull(config);
        var members = new Dictionary<TlsPin, string>();
        if (!config.HasPath(path))
        {
            return members;
        }

        IList<HoconValue> entries;
        try
        {
            entries = config.GetValue(path).GetArray();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ConfigurationException($"{path} must be a list of {{ name, pin }} or {{ name, certificate-file }} objects: {e.Message}");
        }

        foreach (var (entry, i) in entries.Select((e, i) => (e, i)))
        {
            var item = entry.IsObject() ? entry.GetObject() : throw new ConfigurationException($"{path}[{i}] is not an object {{ name, pin }}.");
            var name = Text(item, "name") ?? throw new ConfigurationException($"{path}[{i}] has no name.");
            var pinText = Text(item, "pin");
            var certificate = Text(item, "certificate-file");
            TlsPin pin;
            if (pinText is not null && certificate is null)
            {
                pin = TlsPin.TryParse(pinText) ?? throw new ConfigurationException($"{path}[{i}] ({name}): pin \"{pinText}\" is not 64 hex digits.");
            }
            else if (certificate is not null && pinText is null)
            {
                pin = TlsFiles.PinOf(certificate);
            }
            else
            {
                throw new ConfigurationException($"{path}[{i}] ({name}) needs exactly one of pin and certificate-file.");
            }

            if (!members.TryAdd(pin, name))
            {
                throw new ConfigurationException($"{path}[{i}] ({name}) has the pin of {members[pin]}.");
            }
        }

        return members;
    }

    /// <summary>Adds every validator's pins to <paramref name="accepted"/> and returns them.</summary>
    private static List<TlsPin> AddValidators(Dictionary<TlsPin, string> accepted, IReadOnlyList<GenesisValidator> validators)
    {
        var pins = new List<TlsPin>();
        foreach (var (validator, i) in validators.Select((v, i) => (v, i)))
        {
            if (validator.TlsPins.Count == 0)
            {
                throw new ConfigurationException($"Genesis binds no TLS pin to validator {i}: make its genesis entry from the `.pub` file keygen writes, " +
                    "or run the whole network with insecure = on.");
            }

            foreach (var signed in validator.TlsPins)
            {
                if (accepted.TryGetValue(signed.Pin, out var other))
                {
                    throw new ConfigurationException($"The TLS pin {signed.Pin} of validator {i} is also listed for {other}.");
                }

                accepted[signed.Pin] = $"validator {i}";
                pins.Add(signed.Pin);
            }
        }

        return pins;
    }

    private static string Path(Config config, string key, string fallback)
    {
        var value = config.GetString(key, "");
        return string.IsNullOrWhiteSpace(value) ? fallback : value;
    }

    private static string? Text(HoconObject item, string key) =>
        item.Items.TryGetValue(key, out var value) && value.IsString() && value.GetString() is { Length: > 0 } text ? text : null;
}
