using System.Numerics;
using System.Text;
using IdOS.Akka.Engine.Kwil.Auth;
using NSec.Cryptography;

namespace IdOS.Akka.Engine.Kwil.Transactions;

/// <summary>
/// Signs Kwil transactions as the idOS client does (`concat` serialization): for the localnet's scripted flow and
/// load, tests and benchmarks. Users' keys never reach a node.
/// </summary>
public abstract class KwilSigner
{
    /// <summary>The transaction's sender: an address for `secp256k1_ep`, the public key for `ed25519`.</summary>
    public abstract byte[] Sender { get; }

    public abstract string SignatureType { get; }

    /// <summary>The caller as actions see it (`@caller`): a checksummed address, or the hex public key.</summary>
    public abstract string Caller { get; }

    public static KwilSigner ForEd25519(Key key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new Ed25519Signer(key.PublicKey.Export(KeyBlobFormat.RawPublicKey), message => SignatureAlgorithm.Ed25519.Sign(key, message));
    }

    /// <summary>For keys held elsewhere (the node's own key type): the raw public key and a function that signs.</summary>
    public static KwilSigner ForEd25519(ReadOnlySpan<byte> publicKey, Func<byte[], byte[]> sign) => new Ed25519Signer(publicKey.ToArray(), sign);

    public static KwilSigner ForEvm(EvmKey key) => new EvmSigner(key);

    /// <summary>A NEAR account key signing NEP-413 messages to the recipient idOS issuers use.</summary>
    public static KwilSigner ForNear(Key key) => new NearSigner(key);

    /// <summary>A signed transaction that executes <paramref name="action"/> once per argument row.</summary>
    public byte[] Execute(string chainId, ulong nonce, string action, params KwilValue[][] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var payload = ActionPayload.Encode(new ActionExecution("main", action, rows));
        var body = new KwilTransactionBody(action, payload, "execute", BigInteger.Zero, nonce, chainId);
        var signature = Sign(Encoding.UTF8.GetBytes(KwilTransaction.SignedText(body)));
        return new KwilTransaction(new KwilSignature(signature, SignatureType), body, KwilTransaction.ConcatSerialization, Sender).ToBytes();
    }

    public abstract byte[] Sign(byte[] message);

    private sealed class Ed25519Signer(byte[] publicKey, Func<byte[], byte[]> sign) : KwilSigner
    {
        public override byte[] Sender => publicKey;

        public override string SignatureType => KwilAuthenticator.Ed25519Type;

        public override string Caller => Convert.ToHexStringLower(publicKey);

        public override byte[] Sign(byte[] message) => sign(message);
    }

    private sealed class NearSigner(Key key) : KwilSigner
    {
        private readonly byte[] _publicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);

        public override byte[] Sender => _publicKey;

        public override string SignatureType => KwilAuthenticator.NearType;

        public override string Caller => Nep413.KeyName(_publicKey);

        public override byte[] Sign(byte[] message) =>
            Nep413.Sign(key, Encoding.UTF8.GetString(message), System.Security.Cryptography.RandomNumberGenerator.GetBytes(32), "idos-issuer");
    }

    private sealed class EvmSigner(EvmKey key) : KwilSigner
    {
        public override byte[] Sender => key.Address;

        public override string SignatureType => KwilAuthenticator.EthereumPersonalSign;

        public override string Caller => key.ChecksumAddress;

        public override byte[] Sign(byte[] message) => key.SignPersonal(message);
    }
}
