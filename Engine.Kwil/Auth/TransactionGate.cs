using IdOS.Akka.Engine.Kwil.Crypto;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;

namespace IdOS.Akka.Engine.Kwil.Auth;

/// <summary>A transaction that decoded, is for this chain and whose signer is proven; or the code and reason it is not.</summary>
public sealed record Admission(int Code, string Log, KwilTransaction? Transaction, byte[]? Signer)
{
    public bool IsAdmitted => Code == TxCode.Ok;
}

/// <summary>
/// The checks that need no state: encoding, chain id and signature. Mempools run them before admitting a
/// transaction, and execution runs them again, because a block may carry what a faulty leader never checked.
/// </summary>
public static class TransactionGate
{
    /// <summary>
    /// With <paramref name="signatureVerified"/>, these exact bytes passed this check before (<see cref="VerifiedSignatures"/>):
    /// the signer is then the sender, as every supported authenticator requires, and the signature is not checked again.
    /// </summary>
    public static Admission Check(ReadOnlySpan<byte> bytes, string chainId, ISecp256k1Recovery recovery, bool signatureVerified = false)
    {
        KwilTransaction transaction;
        try
        {
            transaction = KwilTransaction.FromBytes(bytes);
        }
        catch (KwilFormatException e)
        {
            return new Admission(TxCode.Encoding, e.Message, null, null);
        }

        return Check(transaction, chainId, recovery, signatureVerified);
    }

    /// <summary>
    /// The checks after decoding, for a transaction its caller decoded already: the RPC system parses it from JSON
    /// and encodes it once, and checks that form rather than decode its own bytes again.
    /// </summary>
    public static Admission Check(KwilTransaction transaction, string chainId, ISecp256k1Recovery recovery, bool signatureVerified = false)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var body = transaction.Body;
        if (!string.Equals(body.ChainId, chainId, StringComparison.Ordinal))
        {
            return new Admission(TxCode.WrongChain, $"transaction is for chain '{body.ChainId}', this is '{chainId}'", transaction, null);
        }

        if (signatureVerified && transaction.Sender is { } sender)
        {
            return new Admission(TxCode.Ok, "", transaction, sender);
        }

        var signer = KwilAuthenticator.Verify(transaction, recovery);
        return signer.IsValid
            ? new Admission(TxCode.Ok, "", transaction, signer.Signer)
            : new Admission(TxCode.InvalidSignature, signer.Refusal!, transaction, null);
    }

    /// <summary>
    /// What a mempool refuses: anything the gate refuses, and payloads idOS never executes. What passes is noted in
    /// <paramref name="verified"/> by <paramref name="transactionHash"/>, the SHA-256 of <paramref name="bytes"/>
    /// (computed here if the caller does not hold it).
    /// </summary>
    public static string? RefusalForMempool(ReadOnlySpan<byte> bytes, string chainId, ISecp256k1Recovery recovery, VerifiedSignatures? verified = null,
        ReadOnlySpan<byte> transactionHash = default) =>
        ForMempool(bytes, chainId, recovery, verified, transactionHash).Refusal;

    /// <summary><see cref="RefusalForMempool"/> with the transaction it decoded when it passes, so a mempool need not decode it again.</summary>
    public static (string? Refusal, KwilTransaction? Admitted) ForMempool(ReadOnlySpan<byte> bytes, string chainId, ISecp256k1Recovery recovery,
        VerifiedSignatures? verified = null, ReadOnlySpan<byte> transactionHash = default)
    {
        var admission = Check(bytes, chainId, recovery);
        if (!admission.IsAdmitted)
        {
            return (admission.Log, null);
        }

        if (PayloadRefusal(admission.Transaction!) is { } refusal)
        {
            return (refusal.Reason, null);
        }

        verified?.Add(transactionHash.IsEmpty ? System.Security.Cryptography.SHA256.HashData(bytes) : transactionHash, admission.Transaction!);
        return (null, admission.Transaction);
    }

    /// <summary>
    /// Payloads no state can make valid: a type idOS does not execute, a governance payload that does not decode or
    /// is not signed with an ed25519 key. Null for an `execute` payload, which only execution can judge.
    /// </summary>
    public static (int Code, string Reason)? PayloadRefusal(KwilTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var type = transaction.Body.PayloadType;
        if (type == "execute")
        {
            return null;
        }

        if (!ValidatorPayload.IsGovernance(type))
        {
            return (TxCode.InvalidTransactionType, $"payload type '{type}' is not supported; idOS transactions are 'execute' (validators also send " +
                $"{ValidatorPayload.JoinType}, {ValidatorPayload.ApproveType}, {ValidatorPayload.RemoveType} and {ValidatorPayload.LeaveType})");
        }

        if (transaction.Signature?.Type != KwilAuthenticator.Ed25519Type)
        {
            return (TxCode.NotAValidator, $"{type} is signed with the validator's ed25519 key, not {transaction.Signature?.Type}");
        }

        try
        {
            _ = ValidatorPayload.Decode(type, transaction.Body.Payload ?? []);
            return null;
        }
        catch (KwilFormatException e)
        {
            return (TxCode.Encoding, e.Message);
        }
    }
}
