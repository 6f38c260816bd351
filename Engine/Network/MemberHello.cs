using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Consensus.Encoding;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Network;

/// <summary>
/// How an RPC member proves to a validator's query actor that it is a member the validator's operator listed: a
/// signature by its TLS key (the key whose pin the operator listed) over its own address, the validator's address and
/// the time of issue. It cannot be replayed from another address, to another validator, or long after; a pinned member
/// that forges another member's address in the envelope gains nothing, since every listed member may read alike.
/// </summary>
public sealed record MemberHello(string From, string To, long IssuedAtMs, byte[] PublicKeyInfo, byte[] Signature)
{
    public const int MaxAddressLength = 256;
    private const int MaxPublicKeyInfo = 256;
    private const int MaxSignature = 132;
    private const byte Version = 1;

    /// <summary>Signs with the certificate's ECDSA private key.</summary>
    public static MemberHello Sign(X509Certificate2 certificate, string from, string to, long issuedAtMs)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var key = certificate.GetECDsaPrivateKey() ?? throw new ArgumentException("The certificate has no ECDSA private key.", nameof(certificate));
        var publicKeyInfo = certificate.PublicKey.ExportSubjectPublicKeyInfo();
        return new MemberHello(from, to, issuedAtMs, publicKeyInfo, key.SignData(SigningBytes(from, to, issuedAtMs, publicKeyInfo), HashAlgorithmName.SHA256));
    }

    /// <summary>
    /// Accepts a hello from one of <paramref name="members"/> (by the pin of the key it carries), sent from the address
    /// it names to this node, issued within <paramref name="maxAgeMs"/> of now; <paramref name="member"/> is its name.
    /// </summary>
    public Verdict Check(IReadOnlyDictionary<TlsPin, string> members, string senderAddress, string selfAddress, long nowMs, long maxAgeMs,
        out string? member)
    {
        ArgumentNullException.ThrowIfNull(members);
        member = null;
        if (From != senderAddress || To != selfAddress)
        {
            return Verdict.Reject($"member hello from {From} to {To} arrived from {senderAddress} at {selfAddress}");
        }

        if (Math.Abs(nowMs - IssuedAtMs) > maxAgeMs)
        {
            return Verdict.Reject($"member hello issued at {IssuedAtMs}, more than {maxAgeMs} ms from local time {nowMs}");
        }

        var pin = new TlsPin(new Hash32(SHA256.HashData(PublicKeyInfo)));
        if (!members.TryGetValue(pin, out var name))
        {
            return Verdict.Reject($"member hello with key pin {pin}, which no idos.node.rpc-members entry lists");
        }

        try
        {
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(PublicKeyInfo, out _);
            if (!key.VerifyData(SigningBytes(From, To, IssuedAtMs, PublicKeyInfo), Signature, HashAlgorithmName.SHA256))
            {
                return Verdict.Reject($"member hello of {name}: signature does not verify");
            }
        }
        catch (CryptographicException e)
        {
            return Verdict.Reject($"member hello of {name}: its key is no ECDSA key ({e.Message})");
        }

        member = name;
        return Verdict.Accept;
    }

    public byte[] Encode()
    {
        var writer = new CanonicalWriter();
        writer.WriteU8(Version);
        writer.WriteString(From);
        writer.WriteString(To);
        writer.WriteU63(IssuedAtMs);
        writer.WriteShortBytes(PublicKeyInfo);
        writer.WriteShortBytes(Signature);
        return writer.ToArray();
    }

    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out MemberHello? hello, [NotNullWhen(false)] out string? error) =>
        CanonicalReader.TryReadAll(bytes, "member hello", Read, out hello, out error);

    private static MemberHello Read(ref CanonicalReader reader)
    {
        var version = reader.ReadU8();
        if (version != Version)
        {
            throw new MalformedMessageException($"unknown member hello version {version}");
        }

        var from = System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxAddressLength, "from"));
        var to = System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxAddressLength, "to"));
        var issuedAt = reader.ReadU63("issued at");
        return new MemberHello(from, to, issuedAt, reader.ReadShortBytes(MaxPublicKeyInfo, "public key"), reader.ReadShortBytes(MaxSignature, "signature"));
    }

    private static byte[] SigningBytes(string from, string to, long issuedAtMs, byte[] publicKeyInfo)
    {
        var writer = new CanonicalWriter();
        writer.WriteString("idos-akka/member-hello/v1");
        writer.WriteString(from);
        writer.WriteString(to);
        writer.WriteU63(issuedAtMs);
        writer.WriteShortBytes(publicKeyInfo);
        return writer.ToArray();
    }
}

/// <summary>
/// A query actor's answer to a <see cref="MemberHello"/> (allowed, or refused with the reason), and to a query from a
/// remote sender that has not proven it is a listed RPC member (refused: send a hello first).
/// </summary>
public sealed record QueryAccessAnswer(bool Allowed, string Reason)
{
    private const int MaxReason = 1024;

    public byte[] Encode()
    {
        var writer = new CanonicalWriter();
        writer.WriteBool(Allowed);
        var reason = System.Text.Encoding.UTF8.GetBytes(Reason);
        writer.WriteShortBytes(reason.AsSpan(0, Math.Min(reason.Length, MaxReason)));
        return writer.ToArray();
    }

    public static bool TryDecode(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out QueryAccessAnswer? answer, [NotNullWhen(false)] out string? error) =>
        CanonicalReader.TryReadAll(bytes, "query access answer", (ref CanonicalReader reader) =>
            new QueryAccessAnswer(reader.ReadBool(), System.Text.Encoding.UTF8.GetString(reader.ReadShortBytes(MaxReason, "reason"))), out answer, out error);
}
