using System.Security.Cryptography;
using System.Text.Json;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Rpc.JsonRpc;
using IdOS.Akka.Engine.Rpc.Kwil;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Rpc;

/// <summary>The JSON transactions the real client sent to the binary form and back.</summary>
[Trait("Category", "Unit")]
public sealed class TransactionJsonTests
{
    private const string CapturedBroadcast = """
        {"signature":{"sig":"zPkTTBo4b1Be13NCV+EjTnOQa9q9QI1w4WwuEFicrjdKb2RIenGtNjEtQLlKHWLlsaVL12wrDhyUEfY5DmyWmhs=","type":"secp256k1_ep"},
         "body":{"desc":"Create a new attribute in your idOS profile","payload":"AAAEAAAAbWFpbg0AAABhZGRfYXR0cmlidXRlAQADACwAAAAAAA8AAAAAAAAAAAR1dWlkAAAAAAABABEAAAABC3sujpoMTV6POhwtPk9aayQAAAAAAA8AAAAAAAAAAAR0ZXh0AAAAAAABAAkAAAABbmlja25hbWUhAAAAAAAPAAAAAAAAAAAEdGV4dAAAAAAAAQAGAAAAAWFsaWNl",
                 "type":"execute","fee":"0","nonce":1,"chain_id":"idos-capture-test"},
         "sender":"19e7e376e7c213b7e7e7e46cc70a5dd086daff2a","serialization":"concat"}
        """;

    [Fact]
    public void The_captured_broadcast_has_the_reference_size_hash_and_a_verifying_signature()
    {
        var transaction = TransactionJson.Parse(JsonDocument.Parse(CapturedBroadcast).RootElement, requireSignature: true);
        var bytes = transaction.ToBytes();

        Assert.Equal(352, bytes.Length);
        Assert.Equal("446c2ba5826b63462e9d359ab7e242a1e29571481d50b13d43a0258cde7e3cc7", Convert.ToHexStringLower(SHA256.HashData(bytes)));
        Assert.True(KwilAuthenticator.Verify(transaction, Secp256k1.Recovery).IsValid);
    }

    [Fact]
    public void Rendering_and_parsing_again_gives_the_same_bytes()
    {
        var transaction = TransactionJson.Parse(JsonDocument.Parse(CapturedBroadcast).RootElement, requireSignature: true);

        var again = TransactionJson.Parse(JsonDocument.Parse(TransactionJson.Render(transaction).ToJsonString()).RootElement, requireSignature: true);

        Assert.Equal(transaction.ToBytes(), again.ToBytes());
    }

    [Fact]
    public void The_half_built_transaction_of_estimate_price_parses_with_nulls_read_as_kwild_reads_them()
    {
        const string HalfBuilt = """
            {"signature":{"sig":null,"type":"secp256k1_ep"},"body":{"desc":"","payload":"AAAEAAAAbWFpbg0AAABh","type":"execute","fee":null,"nonce":null,"chain_id":""},
             "sender":"19e7e376e7c213b7e7e7e46cc70a5dd086daff2a","serialization":"concat"}
            """;

        var transaction = TransactionJson.Parse(JsonDocument.Parse(HalfBuilt).RootElement, requireSignature: false);

        Assert.Null(transaction.Signature);
        Assert.Equal((0UL, System.Numerics.BigInteger.Zero), (transaction.Body.Nonce, transaction.Body.Fee));
        Assert.Equal(RpcErrorCode.InvalidParams,
            Assert.Throws<RpcException>(() => TransactionJson.Parse(JsonDocument.Parse(HalfBuilt).RootElement, requireSignature: true)).Code);
    }

    [Theory]
    [InlineData("\"payload\":\"AAAEAAAAbWFpbg0AAABh\"", "\"payload\":\"not base64!\"", "tx.body.payload is not base64")]
    [InlineData("\"sender\":\"19e7", "\"sender\":\"zz19e7", "tx.sender is not hex")]
    [InlineData("\"nonce\":null", "\"nonce\":-1", "nonce is not an unsigned")]
    [InlineData("\"fee\":null", "\"fee\":\"1.5\"", "fee is not a non-negative decimal")]
    [InlineData("\"desc\":\"\"", "\"desc\":12", "desc must be a string")]
    public void Malformed_fields_are_invalid_params_naming_the_field(string original, string replacement, string message)
    {
        var json = """
            {"signature":{"sig":null,"type":"secp256k1_ep"},"body":{"desc":"","payload":"AAAEAAAAbWFpbg0AAABh","type":"execute","fee":null,"nonce":null,"chain_id":""},
             "sender":"19e7e376e7c213b7e7e7e46cc70a5dd086daff2a","serialization":"concat"}
            """.Replace(original, replacement, StringComparison.Ordinal);

        var error = Assert.Throws<RpcException>(() => TransactionJson.Parse(JsonDocument.Parse(json).RootElement, requireSignature: false));

        Assert.Equal(RpcErrorCode.InvalidParams, error.Code);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_description_over_200_bytes_is_refused()
    {
        var json = CapturedBroadcast.Replace("Create a new attribute in your idOS profile", new string('x', 201), StringComparison.Ordinal);

        Assert.Contains("longer than 200 bytes",
            Assert.Throws<RpcException>(() => TransactionJson.Parse(JsonDocument.Parse(json).RootElement, requireSignature: true)).Message, StringComparison.Ordinal);
    }
}
