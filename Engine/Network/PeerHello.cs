using System.Diagnostics.CodeAnalysis;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Consensus.Encoding;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Network;

/// <summary>
/// How a cluster member proves which validator it is: membership alone says only that some process joined. The
/// signature covers the chain, the validator index, the member's own actor-system address and the time it was
/// issued, so a hello cannot be replayed by another address, on another chain, or long after.
/// </summary>
public sealed record PeerHello(string ChainId, int Validator, string Address, long IssuedAtMs, byte[] Signature)
{
    public const int MaxAddressLength = 256;
    private const byte Version = 1;

    public static PeerHello Sign(ChainParameters chain, int validator, Ed25519PrivateKey key, string address, long issuedAtMs)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(address);
        if (System.Text.Encoding.UTF8.GetByteCount(address) > MaxAddressLength)
        {
            throw new ArgumentException($"An address in a hello is at most {MaxAddressLength} bytes.", nameof(address));
        }

        return new PeerHello(chain.ChainId, validator, address, issuedAtMs, key.Sign(SigningBytes(chain.ChainId, validator, address, issuedAtMs)));
    }

    /// <summary>Accepts a hello from a validator of this chain, about the address it came from, issued within <paramref name="maxAgeMs"/> of now.</summary>
    public Verdict Check(ChainParameters chain, ISignatureVerifier verifier, string senderAddress, long nowMs, long maxAgeMs)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(verifier);
        if (ChainId != chain.ChainId)
        {
            return Verdict.Reject($"hello for chain {ChainId}, this is {chain.ChainId}");
        }

        if (!chain.Validators.IsValidIndex(Validator))
        {
            return Verdict.Reject($"hello from validator {Validator}, but the set has {chain.Validators.Count}");
        }

        if (Address != senderAddress)
        {
            return Verdict.Reject($"hello names address {Address} but came from {senderAddress}");
        }

        if (Math.Abs(nowMs - IssuedAtMs) > maxAgeMs)
        {
            return Verdict.Reject($"hello issued at {IssuedAtMs}, more than {maxAgeMs} ms from local time {nowMs}");
        }

        return verifier.Verify(chain.Validators[Validator], SigningBytes(ChainId, Validator, Address, IssuedAtMs), Signature)
            ? Verdict.Accept
            : Verdict.Reject($"hello from validator {Validator}: signature does not verify");
    }

    public byte[] Encode()
    {
        var writer = new CanonicalWriter();
        writer.WriteU8(Version);
        writer.WriteString(ChainId);
        writer.WriteU16(Validator);
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
        var validator = reader.ReadU16();
        var address = System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxAddressLength, "address"));
        var issuedAt = reader.ReadU63("issued at");
        return new PeerHello(chainId, validator, address, issuedAt, reader.ReadFixed(Ed25519PrivateKey.SignatureSize).ToArray());
    }

    private static byte[] SigningBytes(string chainId, int validator, string address, long issuedAtMs)
    {
        var writer = new CanonicalWriter();
        writer.WriteString("idos-akka/hello/v1");
        writer.WriteString(chainId);
        writer.WriteU16(validator);
        writer.WriteString(address);
        writer.WriteU63(issuedAtMs);
        return writer.ToArray();
    }
}
