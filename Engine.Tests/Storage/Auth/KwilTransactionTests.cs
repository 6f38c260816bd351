using System.Numerics;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Transactions;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage.Auth;

/// <summary>
/// Transactions the real idOS client sent, captured on the wire: their hashes, their
/// signed text, and their signatures, which must verify for the sender they name and for nobody else.
/// </summary>
[Trait("Category", "Unit")]
public sealed class KwilTransactionTests
{
    private static readonly ISecp256k1Recovery Recovery = Secp256k1.Recovery;

    private static KwilTransaction CapturedEvm(ulong nonce = 1) => new(
        new KwilSignature(Convert.FromBase64String("zPkTTBo4b1Be13NCV+EjTnOQa9q9QI1w4WwuEFicrjdKb2RIenGtNjEtQLlKHWLlsaVL12wrDhyUEfY5DmyWmhs="), "secp256k1_ep"),
        new KwilTransactionBody(
            "Create a new attribute in your idOS profile",
            Convert.FromBase64String("AAAEAAAAbWFpbg0AAABhZGRfYXR0cmlidXRlAQADACwAAAAAAA8AAAAAAAAAAAR1dWlkAAAAAAABABEAAAABC3sujpoMTV6POhwtPk9aayQAAAAAAA8AAAAAAAAAAAR0ZXh0AAAAAAABAAkAAAABbmlja25hbWUhAAAAAAAPAAAAAAAAAAAEdGV4dAAAAAAAAQAGAAAAAWFsaWNl"),
            "execute",
            BigInteger.Zero,
            nonce,
            "idos-capture-test"),
        "concat",
        Convert.FromHexString("19e7e376e7c213b7e7e7e46cc70a5dd086daff2a"));

    private static KwilTransaction CapturedEd25519() => new(
        new KwilSignature(Convert.FromBase64String("Ht+ePlCA4JHNWmY9ksOyXRGi29XVAQvuDQVCbHQYO7OOH9OPrHY02bd6N0Qs4Vp1LXKgRjelP4m2X39du6STCQ=="), "ed25519"),
        new KwilTransactionBody(
            "ed25519 tx",
            Convert.FromBase64String("AAAEAAAAbWFpbg0AAABhZGRfYXR0cmlidXRlAQADACwAAAAAAA8AAAAAAAAAAAR1dWlkAAAAAAABABEAAAABPU5fanuMTZ6PCrHC0+T1ph0AAAAAAA8AAAAAAAAAAAR0ZXh0AAAAAAABAAIAAAABax0AAAAAAA8AAAAAAAAAAAR0ZXh0AAAAAAABAAIAAAABdg=="),
            "execute",
            BigInteger.Zero,
            1,
            "idos-capture-test"),
        "concat",
        Convert.FromHexString("a09aa5f47a6759802ff955f8dc2d2a14a5c99d23be97f864127ff9383455a4f0"));

    [Fact]
    public void The_captured_transactions_hash_to_what_the_reference_codec_computed()
    {
        var evm = CapturedEvm();
        var bytes = evm.ToBytes();

        Assert.Equal(352, bytes.Length);
        Assert.Equal("00009e0141", Convert.ToHexStringLower(bytes.AsSpan(0, 5)));
        Assert.Equal("446c2ba5826b63462e9d359ab7e242a1e29571481d50b13d43a0258cde7e3cc7", Convert.ToHexStringLower(evm.Hash()));
        Assert.Equal("4f56634ca125ad084ccb3af2f3ada32dcf36e617fd0bd993db0941f6dee2ae14", Convert.ToHexStringLower(CapturedEd25519().Hash()));
    }

    [Fact]
    public void The_signed_text_is_the_concat_template_with_the_payload_digest()
    {
        Assert.Equal(
            "Create a new attribute in your idOS profile\n\nPayloadType: execute\nPayloadDigest: 8ba0a56b27b133f42846d0ebd246677dfba7faad\nFee: 0\nNonce: 1\n\nKwil Chain ID: idos-capture-test\n",
            KwilTransaction.SignedText(CapturedEvm().Body));
    }

    [Fact]
    public void The_binary_form_decodes_to_the_same_transaction()
    {
        foreach (var transaction in new[] { CapturedEvm(), CapturedEd25519() })
        {
            var back = KwilTransaction.FromBytes(transaction.ToBytes());

            Assert.Equal(transaction.ToBytes(), back.ToBytes());
            Assert.Equal(transaction.Body.Nonce, back.Body.Nonce);
            Assert.Equal(transaction.Signature!.Type, back.Signature!.Type);
        }
    }

    [Fact]
    public void Both_captured_signatures_verify_for_their_senders()
    {
        var evm = KwilAuthenticator.Verify(CapturedEvm(), Recovery);
        var ed = KwilAuthenticator.Verify(CapturedEd25519(), Recovery);

        Assert.True(evm.IsValid, evm.Refusal);
        Assert.Equal("0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", Eip191.ChecksumAddress(evm.Signer!));
        Assert.True(ed.IsValid, ed.Refusal);
    }

    [Fact]
    public void A_changed_nonce_chain_or_sender_and_an_unknown_authenticator_are_refused_with_the_reason()
    {
        var otherNonce = KwilAuthenticator.Verify(CapturedEvm(nonce: 2), Recovery);
        Assert.Contains("not the sender 0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A", otherNonce.Refusal, StringComparison.Ordinal);

        var otherChain = CapturedEd25519() with { Body = CapturedEd25519().Body with { ChainId = "another-chain" } };
        Assert.Contains("does not verify", KwilAuthenticator.Verify(otherChain, Recovery).Refusal, StringComparison.Ordinal);

        var otherSender = CapturedEvm() with { Sender = new byte[20] };
        Assert.False(KwilAuthenticator.Verify(otherSender, Recovery).IsValid);

        var nep = CapturedEd25519() with { Signature = new KwilSignature(new byte[64], "xrpl") };
        Assert.Contains("'xrpl' is not supported", KwilAuthenticator.Verify(nep, Recovery).Refusal, StringComparison.Ordinal);
        Assert.Contains("not signed", KwilAuthenticator.Verify(CapturedEvm() with { Signature = null }, Recovery).Refusal, StringComparison.Ordinal);
        Assert.Contains("not concat or direct", KwilAuthenticator.Verify(CapturedEvm() with { Serialization = "json" }, Recovery).Refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_oversized_and_trailing_bytes_do_not_decode()
    {
        var bytes = CapturedEvm().ToBytes();

        Assert.Throws<KwilFormatException>(() => KwilTransaction.FromBytes(bytes.AsSpan(0, bytes.Length - 1)));
        Assert.Throws<KwilFormatException>(() => KwilTransaction.FromBytes([.. bytes, 0]));
        Assert.Throws<KwilFormatException>(() => KwilTransaction.FromBytes([1, 0, .. bytes.AsSpan(2)]));
        Assert.Throws<KwilFormatException>(() => KwilTransaction.FromBytes([0, 0, 0xfe, 0xff, 0xff, 0xff, 0x0f]));
    }
}
