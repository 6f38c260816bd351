using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IdOS.Akka.Engine.Network;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Network;

[Trait("Category", "Unit")]
public sealed class MemberHelloTests : IDisposable
{
    private const string From = "akka.ssl.tcp://idos@10.0.0.9:4801";
    private const string To = "akka.ssl.tcp://idos@10.0.0.2:4701";
    private const long Now = 1_800_000_000_000;
    private const long MaxAge = 120_000;
    private readonly X509Certificate2 _member = Certificate("rpc-1");
    private readonly X509Certificate2 _stranger = Certificate("stranger");
    private readonly Dictionary<TlsPin, string> _members;

    public MemberHelloTests() => _members = new() { [TlsPin.Of(_member)] = "rpc-1" };

    public void Dispose()
    {
        _member.Dispose();
        _stranger.Dispose();
    }

    private string? Reason(MemberHello hello, string from = From, string to = To) => hello.Check(_members, from, to, Now, MaxAge, out _).Reason;

    [Fact]
    public void A_listed_member_proves_itself_with_its_tls_key_and_survives_the_wire()
    {
        var hello = MemberHello.Sign(_member, From, To, Now);
        Assert.True(MemberHello.TryDecode(hello.Encode(), out var decoded, out var error), error);

        Assert.True(decoded.Check(_members, From, To, Now + MaxAge, MaxAge, out var name).IsAccepted);
        Assert.Equal("rpc-1", name);
    }

    [Fact]
    public void Every_forgery_replay_and_stranger_is_refused_with_a_reason()
    {
        var hello = MemberHello.Sign(_member, From, To, Now);

        Assert.Contains("no idos.node.rpc-members entry lists", Reason(MemberHello.Sign(_stranger, From, To, Now)), StringComparison.Ordinal);
        Assert.Contains("arrived from", Reason(hello, from: "akka.ssl.tcp://idos@10.0.0.8:4801"), StringComparison.Ordinal);
        Assert.Contains("arrived from", Reason(hello, to: "akka.ssl.tcp://idos@10.0.0.3:4701"), StringComparison.Ordinal);
        Assert.Contains("more than 120000 ms", Reason(MemberHello.Sign(_member, From, To, Now - MaxAge - 1)), StringComparison.Ordinal);
        Assert.Contains("does not verify", Reason(hello with { IssuedAtMs = Now + 1 }), StringComparison.Ordinal);
        var stolenKey = hello with { Signature = MemberHello.Sign(_stranger, From, To, Now).Signature };
        Assert.Contains("does not verify", Reason(stolenKey), StringComparison.Ordinal);
        byte[] notAKey = [1, 2, 3];
        _members[new TlsPin(new Engine.Crypto.Hash32(SHA256.HashData(notAKey)))] = "listed by mistake";
        Assert.Contains("no ECDSA key", Reason(hello with { PublicKeyInfo = notAKey }), StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_fields_are_refused_before_they_are_read()
    {
        var hello = MemberHello.Sign(_member, From, To, Now) with { Signature = new byte[4_000] };

        Assert.False(MemberHello.TryDecode(hello.Encode(), out _, out var error));
        Assert.Contains("signature length 4000 is above the limit", error, StringComparison.Ordinal);
    }

    private static X509Certificate2 Certificate(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }
}
