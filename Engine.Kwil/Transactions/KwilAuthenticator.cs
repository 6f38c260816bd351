using IdOS.Akka.Engine.Kwil.Auth;
using NSec.Cryptography;

namespace IdOS.Akka.Engine.Kwil.Transactions;

/// <summary>
/// Who signed a transaction, checked before it touches state: `secp256k1_ep` recovers an
/// Ethereum address from an EIP-191 signature and compares it with the 20-byte sender; `ed25519` verifies the
/// signature with the 32-byte sender as the public key; `nep413` checks a NEAR signed message whose text is the
/// transaction's. Other authenticators (XRPL, Stellar, FaceSign) are refused by name.
/// </summary>
public static class KwilAuthenticator
{
    public const string EthereumPersonalSign = "secp256k1_ep";
    public const string Ed25519Type = "ed25519";
    public const string NearType = "nep413";

    /// <summary>
    /// The key type an account (and its nonce) is kept under, as kwild keys accounts and `user.account` asks for them:
    /// `secp256k1` for Ethereum signers, `ed25519` for ed25519 keys whether they sign plainly or as NEAR (nep413).
    /// </summary>
    public static string AccountKeyType(string signatureType) => signatureType == EthereumPersonalSign ? "secp256k1" : "ed25519";

    /// <summary>`@caller` as actions see it: EIP-55 for Ethereum, `ed25519:&lt;base58&gt;` for NEAR, lowercase hex for ed25519.</summary>
    public static string Caller(string signatureType, byte[] signer)
    {
        ArgumentNullException.ThrowIfNull(signer);
        return signatureType switch
        {
            EthereumPersonalSign => Eip191.ChecksumAddress(signer),
            NearType => Nep413.KeyName(signer),
            _ => Convert.ToHexStringLower(signer),
        };
    }

    public static SignerCheck Verify(KwilTransaction transaction, ISecp256k1Recovery recovery)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (transaction.Signature is not { } signature)
        {
            return SignerCheck.Refuse("the transaction is not signed");
        }

        if (transaction.Sender is not { } sender)
        {
            return SignerCheck.Refuse("the transaction names no sender");
        }

        byte[] message;
        try
        {
            message = transaction.SignedMessage();
        }
        catch (KwilFormatException e)
        {
            return SignerCheck.Refuse(e.Message);
        }

        return VerifyMessage(signature.Type, sender, message, signature.Data, recovery);
    }

    /// <summary>Whether <paramref name="sender"/> signed <paramref name="message"/> under the authenticator named; also for KGW logins.</summary>
    public static SignerCheck VerifyMessage(string type, byte[] sender, byte[] message, byte[] data, ISecp256k1Recovery recovery)
    {
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(data);
        var signature = new KwilSignature(data, type);
        switch (signature.Type)
        {
            case EthereumPersonalSign:
                if (sender.Length != Eip191.AddressSize)
                {
                    return SignerCheck.Refuse($"a {EthereumPersonalSign} sender is a {Eip191.AddressSize}-byte address, got {sender.Length} bytes");
                }

                var recovered = Eip191.RecoverAddress(message, signature.Data, recovery);
                if (!recovered.IsValid)
                {
                    return recovered;
                }

                return recovered.Signer!.AsSpan().SequenceEqual(sender)
                    ? new SignerCheck(sender, null)
                    : SignerCheck.Refuse($"the signature is by {Eip191.ChecksumAddress(recovered.Signer)}, not the sender {Eip191.ChecksumAddress(sender)}");
            case Ed25519Type:
                if (sender.Length != 32 || signature.Data.Length != 64)
                {
                    return SignerCheck.Refuse("an ed25519 sender is a 32-byte public key and its signature 64 bytes");
                }

                if (!PublicKey.TryImport(SignatureAlgorithm.Ed25519, sender, KeyBlobFormat.RawPublicKey, out var key) || key is null)
                {
                    return SignerCheck.Refuse("the sender is not a valid ed25519 public key");
                }

                return SignatureAlgorithm.Ed25519.Verify(key, message, signature.Data)
                    ? new SignerCheck(sender, null)
                    : SignerCheck.Refuse("the ed25519 signature does not verify for the sender");
            case NearType:
                if (sender.Length != 32)
                {
                    return SignerCheck.Refuse("a nep413 sender is a 32-byte ed25519 public key");
                }

                return Nep413.Check(sender, System.Text.Encoding.UTF8.GetString(message), signature.Data) is { } refusal
                    ? SignerCheck.Refuse(refusal)
                    : new SignerCheck(sender, null);
            default:
                return SignerCheck.Refuse($"signature type '{signature.Type}' is not supported (supported: {EthereumPersonalSign}, {Ed25519Type}, {NearType})");
        }
    }
}
