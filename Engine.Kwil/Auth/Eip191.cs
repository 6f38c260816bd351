using System.Globalization;
using System.Text;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace IdOS.Akka.Engine.Kwil.Auth;

/// <summary>The outcome of checking a signature: the signer's identifier, or the reason it was refused.</summary>
public readonly record struct SignerCheck(byte[]? Signer, string? Refusal)
{
    public bool IsValid => Signer is not null;

    public static SignerCheck Refuse(string reason) => new(null, reason);
}

/// <summary>
/// Ethereum personal_sign (EIP-191 version 0x45), as MetaMask and ethers sign and Kwil's `secp256k1_ep` verifies: the
/// signer's address is recovered from a 65-byte r ‖ s ‖ v signature over Keccak-256 of the prefixed message.
/// </summary>
public static class Eip191
{
    public const int SignatureSize = 65;
    public const int AddressSize = 20;

    public static byte[] Digest(ReadOnlySpan<byte> message)
    {
        var prefix = Encoding.ASCII.GetBytes("\u0019Ethereum Signed Message:\n" + message.Length.ToString(CultureInfo.InvariantCulture));
        var prefixed = new byte[prefix.Length + message.Length];
        prefix.CopyTo(prefixed, 0);
        message.CopyTo(prefixed.AsSpan(prefix.Length));
        return Keccak256.Hash(prefixed);
    }

    /// <summary>
    /// Recovers the 20-byte address that signed <paramref name="message"/>. Refused: a length other than 65, v other
    /// than 27/28 (or 0/1), r or s of 0 or ≥ n, s above n/2 (the malleated twin of a valid signature), or no key.
    /// </summary>
    public static SignerCheck RecoverAddress(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature, ISecp256k1Recovery recovery)
    {
        ArgumentNullException.ThrowIfNull(recovery);
        if (signature.Length != SignatureSize)
        {
            return SignerCheck.Refuse($"an EIP-191 signature is {SignatureSize} bytes, got {signature.Length}");
        }

        var v = signature[64];
        var recoveryId = v switch
        {
            27 or 28 => v - 27,
            0 or 1 => v,
            _ => -1,
        };
        if (recoveryId < 0)
        {
            return SignerCheck.Refuse($"signature recovery byte v is {v}; expected 27, 28, 0 or 1");
        }

        var r = new BcBigInteger(1, signature[..32]);
        var s = new BcBigInteger(1, signature[32..64]);
        if (r.SignValue == 0 || s.SignValue == 0 || r.CompareTo(Secp256k1.Order) >= 0 || s.CompareTo(Secp256k1.Order) >= 0)
        {
            return SignerCheck.Refuse("signature r or s is out of range");
        }

        if (s.CompareTo(Secp256k1.HalfOrder) > 0)
        {
            return SignerCheck.Refuse("signature s is in the upper half of the curve order (malleated); use its low-s form");
        }

        var publicKey = recovery.Recover(Digest(message), signature[..64], recoveryId);
        return publicKey is null
            ? SignerCheck.Refuse("no public key recovers from this signature")
            : new SignerCheck(AddressOf(publicKey), null);
    }

    /// <summary>The address of an uncompressed public key: the last 20 bytes of Keccak-256 over x ‖ y.</summary>
    public static byte[] AddressOf(ReadOnlySpan<byte> uncompressedPublicKey)
    {
        if (uncompressedPublicKey.Length != 65 || uncompressedPublicKey[0] != 0x04)
        {
            throw new ArgumentException("An uncompressed secp256k1 public key is 0x04 followed by 64 bytes.", nameof(uncompressedPublicKey));
        }

        return Keccak256.Hash(uncompressedPublicKey[1..])[^AddressSize..];
    }

    /// <summary>EIP-55 mixed-case checksum form (`0x…`), which Kwil reports as the caller of an Ethereum account.</summary>
    public static string ChecksumAddress(ReadOnlySpan<byte> address)
    {
        if (address.Length != AddressSize)
        {
            throw new ArgumentException($"An address is {AddressSize} bytes.", nameof(address));
        }

        var hex = Convert.ToHexStringLower(address);
        var hash = Keccak256.Hash(Encoding.ASCII.GetBytes(hex));
        var result = new StringBuilder("0x", 42);
        for (var i = 0; i < hex.Length; i++)
        {
            var nibble = (hash[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0x0f;
            result.Append(nibble >= 8 ? char.ToUpperInvariant(hex[i]) : hex[i]);
        }

        return result.ToString();
    }
}
