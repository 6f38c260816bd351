using IdOS.Akka.Engine.Storage.Auth;
using IdOS.Akka.Engine.Storage.Transactions;
using NSec.Cryptography;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage.Auth;

/// <summary>NEAR's key names (base58) and NEP-413 signed messages, as transactions and wallet proofs use them.</summary>
[Trait("Category", "Unit")]
public sealed class NearTests
{
    [Theory]
    [InlineData("48656c6c6f20576f726c6421", "2NEpo7TZRRrLZSi2U")]
    [InlineData("000001", "112")]
    [InlineData("", "")]
    public void Base58_matches_bitcoins_alphabet_and_keeps_leading_zeros(string hex, string text)
    {
        Assert.Equal(text, Base58.Encode(Convert.FromHexString(hex)));
        Assert.Equal(Convert.FromHexString(hex), Base58.Decode(text));
        Assert.Null(Base58.Decode("0OIl"));
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
