using Akka.Configuration;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Tests.Consensus;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Network;

[Trait("Category", "Unit")]
public sealed class PeerHelloTests
{
    private const string Address = "akka.tcp://idos@10.0.0.2:4053";
    private const long Now = 1_800_000_000_000;
    private const long MaxAge = 60_000;
    private readonly TestChain _t = new();

    private PeerHello Hello(int validator = 2, string address = Address, long issuedAt = Now) =>
        PeerHello.Sign(_t.Chain.ChainId, _t.Keys[validator], address, issuedAt);

    private string? Reason(PeerHello hello, string from = Address, IReadOnlySet<Ed25519PublicKey>? admitted = null) =>
        hello.Check(_t.Chain.ChainId, admitted ?? _t.Keys.Select(k => k.PublicKey).ToHashSet(), Ed25519Verifier.Instance, from, Now, MaxAge).Reason;

    [Fact]
    public void A_validator_proves_its_key_for_the_address_it_speaks_from()
    {
        Assert.Null(Reason(Hello()));
        Assert.Null(Reason(Hello(issuedAt: Now - MaxAge)));
    }

    [Fact]
    public void Every_forgery_and_replay_is_rejected_with_a_reason()
    {
        Assert.Contains("does not verify", Reason(Hello() with { Key = _t.Keys[1].PublicKey }), StringComparison.Ordinal);
        Assert.Contains("does not verify", Reason(Hello() with { Address = "akka.tcp://idos@10.0.0.9:4053" }, "akka.tcp://idos@10.0.0.9:4053"), StringComparison.Ordinal);
        Assert.Contains("came from", Reason(Hello(), "akka.tcp://idos@10.0.0.9:4053"), StringComparison.Ordinal);
        Assert.Contains("more than 60000 ms", Reason(Hello(issuedAt: Now - MaxAge - 1)), StringComparison.Ordinal);
        Assert.Contains("more than 60000 ms", Reason(Hello(issuedAt: Now + MaxAge + 1)), StringComparison.Ordinal);
        Assert.Contains("no vote in this epoch or any scheduled", Reason(Hello(), admitted: _t.Keys.Take(2).Select(k => k.PublicKey).ToHashSet()),
            StringComparison.Ordinal);
        Assert.Contains("this is test-chain", Reason(PeerHello.Sign("other", _t.Keys[2], Address, Now)), StringComparison.Ordinal);
    }

    [Fact]
    public void The_encoding_round_trips_and_refuses_every_truncation()
    {
        var bytes = Hello().Encode();

        Assert.True(PeerHello.TryDecode(bytes, out var decoded, out var error), error);
        Assert.Equal(bytes, decoded.Encode());
        for (var length = 0; length < bytes.Length; length++)
        {
            Assert.False(PeerHello.TryDecode(bytes.AsSpan(0, length), out _, out _));
        }
    }

    [Fact]
    public void The_hello_is_bound_to_the_wire_serializer()
    {
        using var system = global::Akka.Actor.ActorSystem.Create("hello", ConfigurationFactory.ParseString(TestFiles.NodeConf));
        var hello = Hello();
        var serializer = Assert.IsType<WireSerializer>(system.Serialization.FindSerializerFor(hello));

        var back = (PeerHello)system.Serialization.Deserialize(serializer.ToBinary(hello), WireSerializer.Id, serializer.Manifest(hello));

        Assert.Equal(hello.Encode(), back.Encode());
    }
}
