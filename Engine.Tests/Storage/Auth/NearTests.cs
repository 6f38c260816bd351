using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Transactions;
using NSec.Cryptography;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage.Auth;

/// <summary>NEAR's key names (base58) and NEP-413 signed messages, as transactions and wallet proofs use them.</summary>
[Trait("Category", "Unit")]
public sealed class NearTests
{
    [Fact]
    public void Near_key_names_round_trip_and_keep_leading_zero_bytes()
    {
        var key = new byte[32];
        key[2] = 7;
        key[31] = 255;

        var name = Nep413.KeyName(key);

        Assert.StartsWith("ed25519:11", name, StringComparison.Ordinal);
        Assert.Equal(key, Nep413.ParseKeyName(name));
    }

    [Theory]
    [InlineData("ed25519:")]
    [InlineData("ed25519:0OIl")]
    [InlineData("secp256k1:11111111111111111111111111111111")]
    [InlineData("ed25519:2NEpo7TZRRrLZSi2U")]
    public void Names_that_hold_no_32_byte_key_are_refused(string name) => Assert.Null(Nep413.ParseKeyName(name));

    [Fact]
    public void A_name_longer_than_any_32_byte_key_is_refused_before_it_is_decoded()
    {
        var longest = Nep413.KeyName(Enumerable.Repeat((byte)255, 32).ToArray());
        Assert.Equal("ed25519:".Length + Nep413.MaxKeyBase58Length, longest.Length);

        Assert.Null(Nep413.ParseKeyName(longest + "2"));
        Assert.Null(Nep413.ParseKeyName("ed25519:" + new string('z', 1 << 20)));
    }

    [Fact]
    public void A_nep413_signed_transaction_verifies_for_its_sender_and_names_the_caller_as_near_does()
    {
        using var key = Key.Create(SignatureAlgorithm.Ed25519);
        var signer = KwilSigner.ForNear(key);
        var bytes = signer.Execute("idos-test", 1, "get_user", []);
        var transaction = KwilTransaction.FromBytes(bytes);

        var check = KwilAuthenticator.Verify(transaction, Secp256k1.Recovery);

        Assert.True(check.IsValid, check.Refusal);
        Assert.Equal(signer.Caller, KwilAuthenticator.Caller(KwilAuthenticator.NearType, check.Signer!));
        Assert.StartsWith("ed25519:", signer.Caller, StringComparison.Ordinal);
        Assert.Equal(key.PublicKey.Export(KeyBlobFormat.RawPublicKey), Nep413.ParseKeyName(signer.Caller));

        var otherBody = transaction with { Body = transaction.Body with { Nonce = 2 } };
        Assert.Contains("another message", KwilAuthenticator.Verify(otherBody, Secp256k1.Recovery).Refusal, StringComparison.Ordinal);
        var forged = (byte[])transaction.Signature!.Data.Clone();
        forged[^1] ^= 1;
        Assert.Contains("does not verify", KwilAuthenticator.Verify(transaction with { Signature = transaction.Signature with { Data = forged } }, Secp256k1.Recovery).Refusal,
            StringComparison.Ordinal);
        Assert.NotNull(Nep413.Check(key.PublicKey.Export(KeyBlobFormat.RawPublicKey), "m", forged.AsSpan(0, 10)));
    }
}
