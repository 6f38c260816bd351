using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IdOS.Akka.Engine.Consensus.Encoding;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Network;

/// <summary>
/// A TLS peer's identity: the SHA-256 of its certificate's SubjectPublicKeyInfo. Pinning the key rather than the
/// certificate lets an operator renew a certificate (new dates, same key) without telling every peer.
/// </summary>
public readonly record struct TlsPin(Hash32 Digest)
{
    public const int HexLength = 2 * Hash32.Size;

    public static TlsPin Of(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return new TlsPin(new Hash32(SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo())));
    }

    /// <summary>64 hex digits, either case; null for anything else.</summary>
    public static TlsPin? TryParse(string? text)
    {
        if (text is not { Length: HexLength })
        {
            return null;
        }

        try
        {
            return new TlsPin(new Hash32(Convert.FromHexString(text)));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// The bytes a validator key signs to bind this pin to itself, so that genesis says which TLS key speaks for which
    /// validator and a leaked genesis entry cannot be reused with another key.
    /// </summary>
    public byte[] BindingBytes(Ed25519PublicKey validator)
    {
        ArgumentNullException.ThrowIfNull(validator);
        var writer = new CanonicalWriter();
        writer.WriteString("idos-akka/tls-pin/v1");
        writer.WriteFixed(validator.Bytes);
        writer.WriteFixed(Digest.ToArray());
        return writer.ToArray();
    }

    public override string ToString() => Digest.ToString();
}

/// <summary>A pin a validator key vouches for: genesis carries these, and a node checks each before it trusts the pin.</summary>
public sealed record SignedTlsPin(TlsPin Pin, byte[] Signature)
{
    public static SignedTlsPin Sign(Ed25519PrivateKey validatorKey, TlsPin pin)
    {
        ArgumentNullException.ThrowIfNull(validatorKey);
        return new SignedTlsPin(pin, validatorKey.Sign(pin.BindingBytes(validatorKey.PublicKey)));
    }

    public bool IsSignedBy(Ed25519PublicKey validator) =>
        Signature.Length == Ed25519PrivateKey.SignatureSize && Ed25519Verifier.Instance.Verify(validator, Pin.BindingBytes(validator), Signature);
}
