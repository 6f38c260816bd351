using System.Text.Json;
using System.Text.Json.Serialization;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>A key or genesis file that cannot be used; the message names the file and what is wrong with it.</summary>
public sealed class NodeFileException(string message) : Exception(message)
{
    public NodeFileException()
        : this("unusable node file")
    {
    }

    public NodeFileException(string message, Exception inner)
        : this(message + ": " + inner.Message)
    {
    }
}

/// <summary>
/// A validator's signing key on disk: JSON with the seed and the public key, readable by its owner only. Reading
/// re-derives the public key from the seed, so a corrupted or hand-edited file is refused instead of signing as
/// someone else.
/// </summary>
public static class KeyFiles
{
    public const string PrivateKeyType = "idos-akka/ed25519-validator-key";
    public const string PublicKeyType = "idos-akka/ed25519-public-key";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Writes the key file and, beside it, `&lt;file&gt;.pub` with the public key alone; never overwrites.</summary>
    public static Ed25519PublicKey Generate(string path) => Generate(path, null).Key;

    /// <summary>
    /// A validator's identity: the key file, its TLS certificate and key (<see cref="TlsFiles"/>) in the same folder, and
    /// `&lt;file&gt;.pub` with the public key and the certificate's pin signed by the key, which is what genesis lists.
    /// </summary>
    public static GenesisValidator GenerateValidator(string path) => Generate(path, TlsCertificateBeside(path));

    /// <summary>Where a validator's TLS certificate is kept unless its configuration says otherwise: beside its key.</summary>
    public static string TlsCertificateBeside(string keyFile) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(keyFile)) ?? ".", TlsFiles.CertificateFileName);

    /// <summary>The public half of a validator's identity, from its `.pub` file: key and signed pins, each signature checked.</summary>
    public static GenesisValidator ReadValidator(string path)
    {
        var document = Read(path);
        var key = ReadPublic(path);
        return new GenesisValidator(key, [.. (document.TlsPins ?? []).Select((entry, i) => entry.ToSigned(path, $"tls_pins[{i}]", key, "the file's key"))]);
    }

    private static GenesisValidator Generate(string path, string? tlsCertificate)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var key = Ed25519PrivateKey.GenerateExportable();
        var publicHex = key.PublicKey.ToString();
        var publicPath = path + ".pub";
        var targets = tlsCertificate is null ? [path, publicPath] : new[] { path, publicPath, tlsCertificate, TlsFiles.KeyFileOf(tlsCertificate) };
        foreach (var target in targets)
        {
            if (File.Exists(target))
            {
                throw new NodeFileException($"{target} already exists; a validator key is never overwritten.");
            }
        }

        List<SignedTlsPin> pins = tlsCertificate is null
            ? []
            : [SignedTlsPin.Sign(key, TlsFiles.Generate(tlsCertificate, TlsFiles.KeyFileOf(tlsCertificate), $"idos validator {publicHex[..16]}"))];
        WriteNew(path, JsonSerializer.Serialize(new KeyDocument(PrivateKeyType, publicHex, Convert.ToHexStringLower(key.ExportSeed())), Json),
            UnixFileMode.UserRead | UnixFileMode.UserWrite);
        WriteNew(publicPath, JsonSerializer.Serialize(new KeyDocument(PublicKeyType, publicHex, null, pins.Count == 0 ? null : [.. pins.Select(PinEntry.From)]), Json),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return new GenesisValidator(key.PublicKey, pins);
    }

    public static Ed25519PrivateKey ReadPrivate(string path)
    {
        var document = Read(path);
        if (document.Type != PrivateKeyType || document.PrivateSeed is null)
        {
            throw new NodeFileException($"{path} is not a validator key file (type \"{document.Type}\", expected \"{PrivateKeyType}\").");
        }

        var key = Ed25519PrivateKey.FromSeed(Hex(path, "private_seed", document.PrivateSeed, Ed25519PrivateKey.SeedSize));
        if (key.PublicKey.ToString() != document.PublicKey)
        {
            key.Dispose();
            throw new NodeFileException($"{path}: public_key does not belong to private_seed; the file is damaged or edited.");
        }

        return key;
    }

    /// <summary>The public key from a `.pub` file or from a full key file.</summary>
    public static Ed25519PublicKey ReadPublic(string path)
    {
        var document = Read(path);
        if (document.Type == PrivateKeyType)
        {
            using var key = ReadPrivate(path);
            return key.PublicKey;
        }

        if (document.Type != PublicKeyType)
        {
            throw new NodeFileException($"{path} is not a key file (type \"{document.Type}\").");
        }

        return Ed25519PublicKey.TryCreate(Hex(path, "public_key", document.PublicKey, Ed25519PublicKey.Size))
            ?? throw new NodeFileException($"{path}: public_key is not a valid ed25519 public key.");
    }

    internal static byte[] Hex(string path, string field, string? value, int size)
    {
        try
        {
            var bytes = Convert.FromHexString(value ?? "");
            return bytes.Length == size
                ? bytes
                : throw new NodeFileException($"{path}: {field} is {bytes.Length} bytes, expected {size}.");
        }
        catch (FormatException)
        {
            throw new NodeFileException($"{path}: {field} is not hexadecimal.");
        }
    }

    private static KeyDocument Read(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        try
        {
            return JsonSerializer.Deserialize<KeyDocument>(File.ReadAllText(path), Json)
                ?? throw new NodeFileException($"{path} is empty.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NodeFileException($"{path} cannot be read: {e.Message}");
        }
        catch (JsonException e)
        {
            throw new NodeFileException($"{path} is not a key file: {e.Message}");
        }
    }

    internal static void WriteNew(string path, string content, UnixFileMode mode)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(content);
        writer.Write('\n');
    }

    private sealed record KeyDocument(
        [property: JsonPropertyName("type")] string Type,
        [property: JsonPropertyName("public_key")] string PublicKey,
        [property: JsonPropertyName("private_seed"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PrivateSeed,
        [property: JsonPropertyName("tls_pins"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<PinEntry>? TlsPins = null);

    /// <summary>A signed pin as `.pub` and genesis files write it.</summary>
    internal sealed record PinEntry(
        [property: JsonPropertyName("pin")] string? Pin,
        [property: JsonPropertyName("signature")] string? Signature)
    {
        public static PinEntry From(SignedTlsPin pin) => new(pin.Pin.ToString(), Convert.ToHexStringLower(pin.Signature));

        public SignedTlsPin ToSigned(string path, string where, Ed25519PublicKey signer, string signerName)
        {
            var pin = TlsPin.TryParse(Pin) ?? throw new NodeFileException($"{path}: {where}.pin is not 64 hex digits.");
            var signed = new SignedTlsPin(pin, Hex(path, $"{where}.signature", Signature, Ed25519PrivateKey.SignatureSize));
            return signed.IsSignedBy(signer)
                ? signed
                : throw new NodeFileException($"{path}: {where} is not signed by {signerName}; the entry was edited or copied from another validator.");
        }
    }
}
