using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>
/// The one file every node of a network shares: chain id, genesis time and the validators' public keys in genesis
/// order (which fixes their indices and the leader rotation). Everything else of genesis is derived from it.
/// </summary>
public static class GenesisFile
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public static ChainParameters Write(string path, string chainId, DateTimeOffset genesisTime, IReadOnlyList<Ed25519PublicKey> validators,
        string databaseOwner = "")
    {
        ArgumentNullException.ThrowIfNull(validators);
        var document = new GenesisDocument(chainId, genesisTime.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            [.. validators.Select(v => v.ToString())], databaseOwner.Length > 0 ? databaseOwner : null);
        var chain = ToChain(path, document, null);
        KeyFiles.WriteNew(path, JsonSerializer.Serialize(document, Json),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return chain;
    }

    public static ChainParameters Read(string path, ConsensusLimits? limits = null)
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

        return ToChain(path, document ?? throw new NodeFileException($"{path} is empty."), limits);
    }

    private static ChainParameters ToChain(string path, GenesisDocument document, ConsensusLimits? limits)
    {
        if (!DateTimeOffset.TryParseExact(document.GenesisTime, "yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal, out var time))
        {
            throw new NodeFileException($"{path}: genesis_time \"{document.GenesisTime}\" is not UTC in the form 2026-11-23T00:00:00.000Z.");
        }

        var keys = new List<Ed25519PublicKey>();
        foreach (var (hex, index) in (document.Validators ?? []).Select((v, i) => (v, i)))
        {
            keys.Add(Ed25519PublicKey.TryCreate(KeyFiles.Hex(path, $"validators[{index}]", hex, Ed25519PublicKey.Size))
                ?? throw new NodeFileException($"{path}: validators[{index}] is not a valid ed25519 public key."));
        }

        try
        {
            return new ChainParameters(document.ChainId ?? "", new ValidatorSet(keys), time.ToUnixTimeMilliseconds(), limits,
                DatabaseOwner(path, document.DatabaseOwner));
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
        [property: JsonPropertyName("validators")] IReadOnlyList<string>? Validators,
        [property: JsonPropertyName("db_owner"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DatabaseOwner = null);
}
