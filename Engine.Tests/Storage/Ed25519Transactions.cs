using System.Numerics;
using IdOS.Akka.Engine.Kwil.Transactions;
using NSec.Cryptography;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>Kwil `execute` transactions of one call, signed with an ed25519 key as the Kwil client signs them.</summary>
internal static class Ed25519Transactions
{
    public static byte[] PublicKey(Key key) => key.PublicKey.Export(KeyBlobFormat.RawPublicKey);

    public static byte[] Execute(Key key, string chain, ulong nonce, string action, params KwilValue[] arguments) =>
        Signed(key, chain, nonce, "execute", ActionPayload.Encode(new ActionExecution("main", action, [arguments])), action);

    /// <summary>Any payload type, signed as the Kwil client signs: the `concat` text of the body.</summary>
    public static byte[] Signed(Key key, string chain, ulong nonce, string payloadType, byte[] payload, string description = "")
    {
        var body = new KwilTransactionBody(description, payload, payloadType, BigInteger.Zero, nonce, chain);
        var signature = SignatureAlgorithm.Ed25519.Sign(key, System.Text.Encoding.UTF8.GetBytes(KwilTransaction.SignedText(body)));
        return new KwilTransaction(new KwilSignature(signature, "ed25519"), body, "concat", PublicKey(key)).ToBytes();
    }
}
