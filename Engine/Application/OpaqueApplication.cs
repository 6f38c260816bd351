using System.Buffers.Binary;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Application;

/// <summary>
/// A transaction the built-in application accepts: an ed25519 public key, its signature, and a payload the
/// application never interprets. Signing binds the payload to a key, so a peer cannot inject transactions in a
/// client's name; the payload's meaning is left to whoever submits it (benchmarks send counters).
/// </summary>
public static class OpaqueTransaction
{
    public const int HeaderSize = Ed25519PublicKey.Size + Ed25519PrivateKey.SignatureSize;

    private static readonly byte[] Domain = "idos-akka/opaque-transaction/v1"u8.ToArray();

    public static byte[] Create(Ed25519PrivateKey key, ReadOnlySpan<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(key);
        var transaction = new byte[HeaderSize + payload.Length];
        key.PublicKey.Bytes.CopyTo(transaction);
        key.Sign(SigningBytes(payload)).CopyTo(transaction.AsSpan(Ed25519PublicKey.Size));
        payload.CopyTo(transaction.AsSpan(HeaderSize));
        return transaction;
    }

    /// <summary>
    /// A transaction of exactly <paramref name="totalSize"/> bytes whose payload starts with the counter, so every one
    /// is distinct. 100 bytes (the benchmark size) leaves a 4-byte payload: counters up to 2^32 per key.
    /// </summary>
    public static byte[] CreateNumbered(Ed25519PrivateKey key, long counter, int totalSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSize, HeaderSize + sizeof(uint));
        ArgumentOutOfRangeException.ThrowIfNegative(counter);
        var payload = new byte[totalSize - HeaderSize];
        if (payload.Length >= sizeof(long))
        {
            BinaryPrimitives.WriteInt64BigEndian(payload, counter);
        }
        else
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(counter, uint.MaxValue);
            BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)counter);
        }

        return Create(key, payload);
    }

    /// <summary>Null when the transaction is well-formed and its signature verifies; the reason otherwise.</summary>
    public static string? Check(ReadOnlySpan<byte> transaction, ISignatureVerifier verifier)
    {
        ArgumentNullException.ThrowIfNull(verifier);
        if (transaction.Length <= HeaderSize)
        {
            return $"transaction of {transaction.Length} bytes; it needs a {Ed25519PublicKey.Size}-byte public key, a {Ed25519PrivateKey.SignatureSize}-byte signature and a payload";
        }

        var key = Ed25519PublicKey.TryCreate(transaction[..Ed25519PublicKey.Size]);
        if (key is null)
        {
            return "transaction's public key is not a valid ed25519 key";
        }

        var signature = transaction.Slice(Ed25519PublicKey.Size, Ed25519PrivateKey.SignatureSize);
        return verifier.Verify(key, SigningBytes(transaction[HeaderSize..]), signature)
            ? null
            : "transaction's signature does not verify";
    }

    private static byte[] SigningBytes(ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[Domain.Length + payload.Length];
        Domain.CopyTo(bytes, 0);
        payload.CopyTo(bytes.AsSpan(Domain.Length));
        return bytes;
    }
}

/// <summary>
/// The application a node runs until the idOS state machine plugs in, and what benchmarks keep running: it admits
/// signed opaque transactions and chains every executed block into the app hash, so nodes that executed anything
/// different disagree at once.
/// </summary>
public sealed class OpaqueApplication(long executedHeight, Hash32 appHash, ISignatureVerifier verifier) : IStateMachine
{
    private readonly HashChainStateMachine _chain = new(executedHeight, appHash);

    public long ExecutedHeight => _chain.ExecutedHeight;

    public Hash32 AppHash => _chain.AppHash;

    public string? CheckTransaction(ReadOnlySpan<byte> transaction) => OpaqueTransaction.Check(transaction, verifier);

    public Hash32 Execute(Block block) => _chain.Execute(block);
}
