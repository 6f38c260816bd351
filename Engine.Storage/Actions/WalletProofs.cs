using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Results;

namespace IdOS.Akka.Engine.Storage.Actions;

/// <summary>
/// The closed `idos` precompile's wallet checks, in our documented form: `is_wallet_valid` (the proof that whoever
/// adds a wallet controls it) and `verify_owner`/`dwg_verify_owner` (a wallet's signature over a grant message) share
/// one verifier. EVM: an EIP-191 signature, hex with or without 0x, by the wallet's address. NEAR: a NEP-413 signature
/// blob (u16 BE length ‖ borsh payload ‖ ed25519 signature), base64, by the wallet's `ed25519:&lt;base58&gt;` public key,
/// whose payload message is the text. XRPL, Stellar and FaceSign are refused as not yet supported, never accepted
/// unchecked.
/// </summary>
public static class WalletProofs
{
    public static readonly IReadOnlySet<string> WalletTypes = new HashSet<string>(StringComparer.Ordinal) { "EVM", "NEAR", "XRPL", "Stellar", "FaceSign" };

    public static void Check(string address, string? publicKey, string walletType, string? message, string? signature, ISecp256k1Recovery recovery)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!WalletTypes.Contains(walletType))
        {
            throw new ActionFailedException(ActionError.BadArguments, $"wallet_type '{walletType}' is not one of EVM, NEAR, XRPL, Stellar, FaceSign");
        }

        RequireSupported(walletType);
        if (string.IsNullOrEmpty(message) || string.IsNullOrEmpty(signature))
        {
            throw new ActionFailedException(ActionError.InvalidProof, $"a {walletType} wallet needs a message and its signature");
        }

        if (SignatureProblem(walletType, address, publicKey, message, signature, recovery) is { } problem)
        {
            throw new ActionFailedException(ActionError.InvalidProof, $"the wallet signature does not verify: {problem}");
        }
    }

    /// <summary>Null when <paramref name="signature"/> is the wallet's signature of <paramref name="message"/>; the reason otherwise.</summary>
    public static string? SignatureProblem(string walletType, string address, string? publicKey, string message, string signature, ISecp256k1Recovery recovery)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(signature);
        RequireSupported(walletType);
        if (walletType == "NEAR")
        {
            if (publicKey is null || Nep413.ParseKeyName(publicKey) is not { } key)
            {
                return "a NEAR wallet's public key is ed25519:<base58>";
            }

            byte[] blob;
            try
            {
                blob = Convert.FromBase64String(signature);
            }
            catch (FormatException)
            {
                return "a NEAR signature is base64";
            }

            return Nep413.Check(key, message, blob);
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromHexString(signature.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? signature[2..] : signature);
        }
        catch (FormatException)
        {
            return "an EVM signature is hex";
        }

        var recovered = Eip191.RecoverAddress(System.Text.Encoding.UTF8.GetBytes(message), bytes, recovery);
        if (!recovered.IsValid)
        {
            return recovered.Refusal;
        }

        var signer = "0x" + Convert.ToHexStringLower(recovered.Signer!);
        return string.Equals(signer, address, StringComparison.OrdinalIgnoreCase)
            ? null
            : $"the signature is by {Eip191.ChecksumAddress(recovered.Signer!)}, not {address}";
    }

    private static void RequireSupported(string walletType)
    {
        if (walletType is not ("EVM" or "NEAR"))
        {
            throw new ActionFailedException(ActionError.BadArguments, $"{walletType} wallets are not supported yet; EVM and NEAR wallets are");
        }
    }
}
