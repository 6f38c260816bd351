using System.Security.Cryptography;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace IdOS.Akka.Engine.Kwil.Auth;

/// <summary>
/// An Ethereum account key that signs as wallets do with personal_sign: deterministic nonces (RFC 6979), low s, and
/// v = 27/28. The node never holds users' keys; this is for the localnet's scripted flow, load and benchmarks.
/// </summary>
public sealed class EvmKey
{
    private static readonly ECDomainParameters Domain = Curve();
    private readonly ECPrivateKeyParameters _key;
    private readonly byte[] _secret;
    private readonly byte[] _publicKey;

    private EvmKey(BcBigInteger secret)
    {
        _key = new ECPrivateKeyParameters(secret, Domain);
        _secret = secret.ToByteArrayUnsigned();
        if (_secret.Length < 32)
        {
            _secret = [.. new byte[32 - _secret.Length], .. _secret];
        }

        _publicKey = Domain.G.Multiply(secret).Normalize().GetEncoded(false);
        Address = Keccak256.Hash(_publicKey.AsSpan(1))[12..];
    }

    /// <summary>The 20-byte address.</summary>
    public byte[] Address { get; }

    public string ChecksumAddress => Eip191.ChecksumAddress(Address);

    public static EvmKey Generate()
    {
        while (true)
        {
            var secret = new BcBigInteger(1, RandomNumberGenerator.GetBytes(32));
            if (secret.SignValue > 0 && secret.CompareTo(Secp256k1.Order) < 0)
            {
                return new EvmKey(secret);
            }
        }
    }

    /// <summary>A key from its 32-byte secret, as wallets export it.</summary>
    public static EvmKey FromSecret(ReadOnlySpan<byte> secret)
    {
        var value = new BcBigInteger(1, secret.ToArray());
        return secret.Length == 32 && value.SignValue > 0 && value.CompareTo(Secp256k1.Order) < 0
            ? new EvmKey(value)
            : throw new ArgumentException("A secp256k1 secret is 32 bytes between 1 and n - 1.", nameof(secret));
    }

    /// <summary>
    /// The 65-byte r ‖ s ‖ v signature over the EIP-191 digest of <paramref name="message"/>: libsecp256k1 when the
    /// machine has it, BouncyCastle otherwise; both give the same bytes.
    /// </summary>
    public byte[] SignPersonal(ReadOnlySpan<byte> message) =>
        LibSecp256k1Signer.Instance is { } native ? SignPersonalWith(native, message) : SignPersonalManaged(message);

    /// <summary>The same signature through libsecp256k1.</summary>
    public byte[] SignPersonalWith(LibSecp256k1Signer native, ReadOnlySpan<byte> message)
    {
        ArgumentNullException.ThrowIfNull(native);
        var (rs, recoveryId) = native.Sign(Eip191.Digest(message), _secret);
        return [.. rs, (byte)(27 + recoveryId)];
    }

    /// <summary>The same signature in managed code (BouncyCastle), for machines without libsecp256k1.</summary>
    public byte[] SignPersonalManaged(ReadOnlySpan<byte> message)
    {
        var digest = Eip191.Digest(message);
        var signer = new ECDsaSigner(new HMacDsaKCalculator(new Sha256Digest()));
        signer.Init(true, _key);
        var parts = signer.GenerateSignature(digest);
        var r = parts[0];
        var s = parts[1].CompareTo(Secp256k1.HalfOrder) > 0 ? Secp256k1.Order.Subtract(parts[1]) : parts[1];
        var signature = new byte[Eip191.SignatureSize];
        r.ToByteArrayUnsigned().CopyTo(signature.AsSpan(32 - r.ToByteArrayUnsigned().Length));
        s.ToByteArrayUnsigned().CopyTo(signature.AsSpan(64 - s.ToByteArrayUnsigned().Length));
        var recovery = new BouncyCastleRecovery();
        for (var id = 0; id < 2; id++)
        {
            if (recovery.Recover(digest, signature.AsSpan(0, 64), id) is { } key && key.AsSpan().SequenceEqual(_publicKey))
            {
                signature[64] = (byte)(27 + id);
                return signature;
            }
        }

        throw new CryptographicException("No recovery id reproduces the signing key.");
    }

    private static ECDomainParameters Curve()
    {
        var curve = SecNamedCurves.GetByName("secp256k1");
        return new ECDomainParameters(curve.Curve, curve.G, curve.N, curve.H);
    }
}
