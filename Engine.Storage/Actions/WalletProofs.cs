using IdOS.Akka.Engine.Storage.Auth;

namespace IdOS.Akka.Engine.Storage.Actions;

/// <summary>
/// `idos.is_wallet_valid` (closed source in the real network): the proof that whoever adds a wallet controls it.
/// For EVM it is an EIP-191 signature (hex, with or without 0x) over the message, by the wallet's address. Other
/// wallet types are refused as not yet supported rather than accepted unchecked.
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

        if (walletType != "EVM")
        {
            throw new ActionFailedException(ActionError.BadArguments, $"{walletType} wallets are not supported yet; only EVM wallets can be added");
        }

        if (string.IsNullOrEmpty(message) || string.IsNullOrEmpty(signature))
        {
            throw new ActionFailedException(ActionError.InvalidProof, "an EVM wallet needs a message and its signature");
        }

        byte[] signatureBytes;
        try
        {
            signatureBytes = Convert.FromHexString(signature.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? signature[2..] : signature);
        }
        catch (FormatException)
        {
            throw new ActionFailedException(ActionError.InvalidProof, "the wallet signature is not hex");
        }

        var recovered = Eip191.RecoverAddress(System.Text.Encoding.UTF8.GetBytes(message), signatureBytes, recovery);
        if (!recovered.IsValid)
        {
            throw new ActionFailedException(ActionError.InvalidProof, $"the wallet signature does not verify: {recovered.Refusal}");
        }

        var signer = "0x" + Convert.ToHexStringLower(recovered.Signer!);
        if (!string.Equals(signer, address, StringComparison.OrdinalIgnoreCase))
        {
            throw new ActionFailedException(ActionError.InvalidProof, $"the wallet signature is by {Eip191.ChecksumAddress(recovered.Signer!)}, not {address}");
        }
    }
}
