using System.Diagnostics.CodeAnalysis;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Consensus.Encoding;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Network;

/// <summary>
/// How a cluster member proves which validator it is: membership alone says only that some process joined. It names
/// the validator by its key, since its index changes from one validator set to the next. The signature covers the
/// chain, the key, the member's own actor-system address and the time it was issued, so a hello cannot be replayed by
/// another address, on another chain, or long after.
/// </summary>
public sealed record PeerHello(string ChainId, Ed25519PublicKey Key, string Address, long IssuedAtMs, byte[] Signature)
{
    public const int MaxAddressLength = 256;
    private const byte Version = 2;

    public static PeerHello Sign(string chainId, Ed25519PrivateKey key, string address, long issuedAtMs)
    {
        ArgumentNullException.ThrowIfNull(chainId);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(address);
        if (System.Text.Encoding.UTF8.GetByteCount(address) > MaxAddressLength)
        {
            throw new ArgumentException($"An address in a hello is at most {MaxAddressLength} bytes.", nameof(address));
        }

        return new PeerHello(chainId, key.PublicKey, address, issuedAtMs, key.Sign(SigningBytes(chainId, key.PublicKey, address, issuedAtMs)));
    }

    /// <summary>
    /// Accepts a hello from a key of <paramref name="admitted"/> on this chain, about the address it came from,
    /// issued within <paramref name="maxAgeMs"/> of now.
    /// </summary>
    public Verdict Check(string chainId, IReadOnlySet<Ed25519PublicKey> admitted, ISignatureVerifier verifier, string senderAddress, long nowMs, long maxAgeMs)
    {
        ArgumentNullException.ThrowIfNull(admitted);
        ArgumentNullException.ThrowIfNull(verifier);
        if (ChainId != chainId)
        {
            return Verdict.Reject($"hello for chain {ChainId}, this is {chainId}");
        }

        if (!admitted.Contains(Key))
        {
            return Verdict.Reject($"hello from {Key}, which has no vote in this epoch or any scheduled");
        }

        if (Address != senderAddress)
        {
            return Verdict.Reject($"hello names address {Address} but came from {senderAddress}");
        }

        if (Math.Abs(nowMs - IssuedAtMs) > maxAgeMs)
        {
            return Verdict.Reject($"hello issued at {IssuedAtMs}, more than {maxAgeMs} ms from local time {nowMs}");
        }

        return verifier.Verify(Key, SigningBytes(ChainId, Key, Address, IssuedAtMs), Signature)
            ? Verdict.Accept
            : Verdict.Reject($"hello from {Key}: signature does not verify");
    }

    public byte[] Encode()
    {
        var writer = new CanonicalWriter();
        writer.WriteU8(Version);
        writer.WriteString(ChainId);
        writer.WriteFixed(Key.Bytes);
        writer.WriteString(Address);
        writer.WriteU63(IssuedAtMs);
        writer.WriteFixed(Signature);
        return writer.ToArray();
    }

    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out PeerHello? hello, [NotNullWhen(false)] out string? error) =>
        CanonicalReader.TryReadAll(bytes, "hello", Read, out hello, out error);

    private static PeerHello Read(ref CanonicalReader reader)
    {
        var version = reader.ReadU8();
        if (version != Version)
        {
            throw new MalformedMessageException($"unknown hello version {version}");
        }

        var chainId = System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(128, "chain id"));
        var key = Ed25519PublicKey.TryCreate(reader.ReadFixed(Ed25519PublicKey.Size))
            ?? throw new MalformedMessageException("hello names a key that is not an ed25519 public key");
        var address = System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxAddressLength, "address"));
        var issuedAt = reader.ReadU63("issued at");
        return new PeerHello(chainId, key, address, issuedAt, reader.ReadFixed(Ed25519PrivateKey.SignatureSize).ToArray());
    }

    private static byte[] SigningBytes(string chainId, Ed25519PublicKey key, string address, long issuedAtMs)
    {
        var writer = new CanonicalWriter();
        writer.WriteString("idos-akka/hello/v2");
        writer.WriteString(chainId);
        writer.WriteFixed(key.Bytes);
        writer.WriteString(address);
        writer.WriteU63(issuedAtMs);
        return writer.ToArray();
    }
}
