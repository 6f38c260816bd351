using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>A validator as genesis lists it: its consensus key and the TLS key pins that key vouches for.</summary>
public sealed record GenesisValidator(Ed25519PublicKey Key, IReadOnlyList<SignedTlsPin> TlsPins);

/// <summary>
/// The one file every node of a network shares: chain id, genesis time, the validators' public keys in genesis
/// order (which fixes their indices) each with the TLS pins it signed, how leaders are chosen (by reputation from
/// committed history when the file says so, as new files do, else in rotation), and how often the state is
/// snapshotted (snapshot_interval, 10,000 blocks when absent). Everything else of
/// genesis is derived from it. The pins are not part of the genesis block: a validator may add a pin (to rotate its
/// certificate) without changing the chain's identity.
/// </summary>
public static class GenesisFile
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>A genesis whose validators bound no TLS pin: only for networks that run with insecure = on.</summary>
    public static ChainParameters Write(string path, string chainId, DateTimeOffset genesisTime, IReadOnlyList<Ed25519PublicKey> validators,
        string databaseOwner = "", LeaderReputationPolicy? leaderReputation = null, long snapshotInterval = ChainParameters.DefaultSnapshotInterval)
    {
        ArgumentNullException.ThrowIfNull(validators);
        return Write(path, chainId, genesisTime, [.. validators.Select(key => new GenesisValidator(key, []))], databaseOwner, leaderReputation, snapshotInterval);
    }

    /// <summary>Leaders by <paramref name="leaderReputation"/>: null for the default of the set's size, <see cref="LeaderReputationPolicy.Off"/> for rotation.</summary>
    public static ChainParameters Write(string path, string chainId, DateTimeOffset genesisTime, IReadOnlyList<GenesisValidator> validators,
        string databaseOwner = "", LeaderReputationPolicy? leaderReputation = null, long snapshotInterval = ChainParameters.DefaultSnapshotInterval)
    {
        ArgumentNullException.ThrowIfNull(validators);
        leaderReputation ??= LeaderReputationPolicy.For(validators.Count);
        var document = new GenesisDocument(chainId, genesisTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            [.. validators.Select(ValidatorEntry.From)], databaseOwner.Length > 0 ? databaseOwner : null,
            leaderReputation.IsOn ? new ReputationEntry(leaderReputation.WindowBlocks, leaderReputation.ExcludeRounds) : null,
            snapshotInterval != ChainParameters.DefaultSnapshotInterval ? snapshotInterval : null);
        // Checked as a reader would check them, so that a pin signed by another key is refused before the file exists.
        ReadValidators(path, document);
        var chain = ToChain(path, document, null);
        KeyFiles.WriteNew(path, JsonSerializer.Serialize(document, Json),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return chain;
    }

    public static ChainParameters Read(string path, ConsensusLimits? limits = null) => ToChain(path, ReadDocument(path), limits);

    /// <summary>The validators with their TLS pins, each pin's signature checked against its validator's key.</summary>
    public static IReadOnlyList<GenesisValidator> ReadValidators(string path) => ReadValidators(path, ReadDocument(path));

    private static List<GenesisValidator> ReadValidators(string path, GenesisDocument document)
    {
        var keys = Keys(path, document);
        return [.. keys.Select((key, index) => new GenesisValidator(key, [.. (document.Validators![index].TlsPins ?? [])
            .Select((entry, p) => entry.ToSigned(path, $"validators[{index}].tls_pins[{p}]", key, $"validator {index}'s key"))]))];
    }

    private static GenesisDocument ReadDocument(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        GenesisDocument? document;
        try
        {
            document = JsonSerializer.Deserialize<GenesisDocument>(File.ReadAllText(path), Json);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NodeFileException($"{path} cannot be read: {e.Message}");
        }
        catch (JsonException e)
        {
            throw new NodeFileException($"{path} is not a genesis file: {e.Message}");
        }

        return document ?? throw new NodeFileException($"{path} is empty.");
    }

    private static List<Ed25519PublicKey> Keys(string path, GenesisDocument document)
    {
        var keys = new List<Ed25519PublicKey>();
        foreach (var (entry, index) in (document.Validators ?? []).Select((v, i) => (v, i)))
        {
            keys.Add(Ed25519PublicKey.TryCreate(KeyFiles.Hex(path, $"validators[{index}]", entry.PublicKey, Ed25519PublicKey.Size))
                ?? throw new NodeFileException($"{path}: validators[{index}] is not a valid ed25519 public key."));
        }

        return keys;
    }

    private static ChainParameters ToChain(string path, GenesisDocument document, ConsensusLimits? limits)
    {
        if (!DateTimeOffset.TryParseExact(document.GenesisTime, "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal, out var time))
        {
            throw new NodeFileException($"{path}: genesis_time \"{document.GenesisTime}\" is not UTC in the form 2026-11-23T00:00:00.000Z.");
        }

        var keys = Keys(path, document);
        try
        {
            var reputation = document.LeaderReputation is { } entry
                ? new LeaderReputationPolicy(entry.WindowBlocks ?? 0, entry.ExcludeRounds ?? 0)
                : LeaderReputationPolicy.Off;
            if (document.LeaderReputation is not null && !reputation.IsOn)
            {
                throw new NodeFileException($"{path}: leader_reputation needs window_blocks of 1 or more and exclude_rounds; leave it out for leaders in rotation.");
            }

            if (document.SnapshotInterval is < 0)
            {
                throw new NodeFileException($"{path}: snapshot_interval is {document.SnapshotInterval}; it is a number of blocks, or 0 for no snapshots.");
            }

            return new ChainParameters(document.ChainId ?? "", new ValidatorSet(keys), time.ToUnixTimeMilliseconds(), limits,
                DatabaseOwner(path, document.DatabaseOwner), reputation, document.SnapshotInterval ?? ChainParameters.DefaultSnapshotInterval);
        }
        catch (ArgumentException e)
        {
            var reason = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal);
            throw new NodeFileException($"{path}: {reason}");
        }
    }

    /// <summary>An EVM address (0x and 40 hex digits) or an ed25519 public key (64 hex digits), kept lower-case as callers are compared.</summary>
    private static string DatabaseOwner(string path, string? owner)
    {
        if (string.IsNullOrEmpty(owner))
        {
            return "";
        }

        var lower = owner.ToLowerInvariant();
        var hex = lower.StartsWith("0x", StringComparison.Ordinal) ? lower[2..] : lower;
        var isHex = hex.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));
        return isHex && ((lower.Length == 42 && hex.Length == 40) || (hex.Length == 64 && lower.Length == 64))
            ? lower
            : throw new NodeFileException($"{path}: db_owner \"{owner}\" is neither an EVM address (0x and 40 hex digits) nor an ed25519 public key (64 hex digits).");
    }

    private sealed record GenesisDocument(
        [property: JsonPropertyName("chain_id")] string? ChainId,
        [property: JsonPropertyName("genesis_time")] string? GenesisTime,
        [property: JsonPropertyName("validators")] IReadOnlyList<ValidatorEntry>? Validators,
        [property: JsonPropertyName("db_owner"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DatabaseOwner = null,
        [property: JsonPropertyName("leader_reputation"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ReputationEntry? LeaderReputation = null,
        [property: JsonPropertyName("snapshot_interval"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? SnapshotInterval = null);

    private sealed record ReputationEntry(
        [property: JsonPropertyName("window_blocks")] int? WindowBlocks,
        [property: JsonPropertyName("exclude_rounds")] int? ExcludeRounds);

    /// <summary>An object with the key and its pins; a bare key string (genesis files from before TLS) reads as a key without pins.</summary>
    [JsonConverter(typeof(ValidatorEntryConverter))]
    private sealed record ValidatorEntry(
        [property: JsonPropertyName("public_key")] string? PublicKey,
        [property: JsonPropertyName("tls_pins")] IReadOnlyList<KeyFiles.PinEntry>? TlsPins)
    {
        public static ValidatorEntry From(GenesisValidator validator) => new(validator.Key.ToString(), [.. validator.TlsPins.Select(KeyFiles.PinEntry.From)]);
    }

    private sealed class ValidatorEntryConverter : JsonConverter<ValidatorEntry>
    {
        private static readonly JsonSerializerOptions Inner = new() { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

        public override ValidatorEntry? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String
                ? new ValidatorEntry(reader.GetString(), null)
                : JsonSerializer.Deserialize<ValidatorEntryObject>(ref reader, Inner) is { } entry ? new ValidatorEntry(entry.PublicKey, entry.TlsPins) : null;

        public override void Write(Utf8JsonWriter writer, ValidatorEntry value, JsonSerializerOptions options) =>
            JsonSerializer.Serialize(writer, new ValidatorEntryObject(value.PublicKey, value.TlsPins), options);
    }

    private sealed record ValidatorEntryObject(
        [property: JsonPropertyName("public_key")] string? PublicKey,
        [property: JsonPropertyName("tls_pins")] IReadOnlyList<KeyFiles.PinEntry>? TlsPins);
}
