using NSec.Cryptography;

namespace IdOS.Akka.Engine.Crypto;

/// <summary>An ed25519 public key: 32 raw bytes, imported once so that verification does not re-parse it.</summary>
public sealed class Ed25519PublicKey : IEquatable<Ed25519PublicKey>
{
    public const int Size = 32;

    private readonly byte[] _bytes;

    private Ed25519PublicKey(byte[] bytes, PublicKey key)
    {
        _bytes = bytes;
        Key = key;
    }

    internal PublicKey Key { get; }

    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>Returns null when the bytes are not a valid ed25519 point (e.g. read from a tampered genesis file).</summary>
    public static Ed25519PublicKey? TryCreate(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            return null;
        }

        return PublicKey.TryImport(SignatureAlgorithm.Ed25519, bytes, KeyBlobFormat.RawPublicKey, out var key) && key is not null
            ? new Ed25519PublicKey(bytes.ToArray(), key)
            : null;
    }

    public bool Equals(Ed25519PublicKey? other) => other is not null && _bytes.AsSpan().SequenceEqual(other._bytes);

    public override bool Equals(object? obj) => Equals(obj as Ed25519PublicKey);

    public override int GetHashCode() => BitConverter.ToInt32(_bytes, 0);

    public override string ToString() => Convert.ToHexStringLower(_bytes);
}

/// <summary>An ed25519 signing key. Signing is deterministic (RFC 8032), which the simulator's replay relies on.</summary>
public sealed class Ed25519PrivateKey : IDisposable
{
    public const int SeedSize = 32;
    public const int SignatureSize = 64;

    private readonly Key _key;

    private Ed25519PrivateKey(Key key)
    {
        _key = key;
        PublicKey = Ed25519PublicKey.TryCreate(key.PublicKey.Export(KeyBlobFormat.RawPublicKey))
            ?? throw new InvalidOperationException("libsodium produced an invalid ed25519 public key.");
    }

    public Ed25519PublicKey PublicKey { get; }

    public static Ed25519PrivateKey FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedSize)
        {
            throw new ArgumentException($"An ed25519 seed is {SeedSize} bytes, got {seed.Length}.", nameof(seed));
        }

        // The private key never leaves libsodium's memory again: no export policy.
        return new Ed25519PrivateKey(Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey));
    }

    /// <summary>A fresh key whose seed can be written once to the validator's key file.</summary>
    public static Ed25519PrivateKey GenerateExportable()
    {
        var parameters = new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextArchiving };
        return new Ed25519PrivateKey(Key.Create(SignatureAlgorithm.Ed25519, parameters));
    }

    public byte[] ExportSeed() => _key.Export(KeyBlobFormat.RawPrivateKey);

    public byte[] Sign(ReadOnlySpan<byte> message) => SignatureAlgorithm.Ed25519.Sign(_key, message);

    public void Dispose() => _key.Dispose();
}

public interface ISignatureVerifier
{
    bool Verify(Ed25519PublicKey key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature);
}

public sealed class Ed25519Verifier : ISignatureVerifier
{
    public static readonly Ed25519Verifier Instance = new();

    private Ed25519Verifier()
    {
    }

    public bool Verify(Ed25519PublicKey key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
        signature.Length == Ed25519PrivateKey.SignatureSize && SignatureAlgorithm.Ed25519.Verify(key.Key, message, signature);
}
