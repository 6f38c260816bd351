using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Transactions;
using NSec.Cryptography;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage.Auth;

/// <summary>The governance payloads' encoding, bounded in every field, and what a mempool admits of them.</summary>
[Trait("Category", "Unit")]
public sealed class ValidatorPayloadTests
{
    private const string Chain = "idos-test";
    private static readonly byte[] Pin = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];
    private static readonly byte[] Target = [.. Enumerable.Range(100, 32).Select(i => (byte)i)];

    [Fact]
    public void Every_payload_decodes_to_what_was_encoded()
    {
        var join = Assert.IsType<ValidatorJoin>(RoundTrip(new ValidatorJoin(Pin, "node5.example:7000")));
        var approve = Assert.IsType<ValidatorApprove>(RoundTrip(new ValidatorApprove(Target)));
        var remove = Assert.IsType<ValidatorRemove>(RoundTrip(new ValidatorRemove(Target, AllowFewerThanFour: true)));
        var leave = Assert.IsType<ValidatorLeave>(RoundTrip(new ValidatorLeave()));

        Assert.Equal(Pin, join.TlsPin);
        Assert.Equal("node5.example:7000", join.Address);
        Assert.Equal(Target, approve.Candidate);
        Assert.Equal(Target, remove.Target);
        Assert.True(remove.AllowFewerThanFour);
        Assert.False(leave.AllowFewerThanFour);
    }

    [Theory]
    [InlineData(ValidatorPayload.ApproveType, "0100" + "02" + "00", "candidate key is 32 bytes")]
    [InlineData(ValidatorPayload.LeaveType, "0200" + "00", "version 2")]
    [InlineData(ValidatorPayload.LeaveType, "0100" + "02", "a flag is 0 or 1")]
    [InlineData(ValidatorPayload.LeaveType, "0100" + "00" + "00", "bytes after")]
    [InlineData("transfer", "0100", "not a validator governance type")]
    public void Malformed_payloads_are_refused_with_the_field_that_is_wrong(string type, string hex, string reason)
    {
        var error = Assert.Throws<KwilFormatException>(() => ValidatorPayload.Decode(type, Convert.FromHexString(hex)));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_address_longer_than_any_host_and_port_is_refused_before_it_is_read()
    {
        var payload = new ValidatorJoin(Pin, new string('a', ValidatorPayload.MaxAddressBytes + 1)).Encode();

        Assert.Throws<KwilFormatException>(() => ValidatorPayload.Decode(ValidatorPayload.JoinType, payload));
    }

    [Fact]
    public void A_mempool_admits_governance_signed_by_an_ed25519_key_and_refuses_other_payload_types()
    {
        using var key = Key.Create(SignatureAlgorithm.Ed25519);

        var admitted = TransactionGate.RefusalForMempool(Signed(key, ValidatorPayload.LeaveType, new ValidatorLeave().Encode()), Chain, Secp256k1.Recovery);
        var garbled = TransactionGate.RefusalForMempool(Signed(key, ValidatorPayload.LeaveType, [1, 0, 9]), Chain, Secp256k1.Recovery);
        var transfer = TransactionGate.RefusalForMempool(Signed(key, "transfer", []), Chain, Secp256k1.Recovery);

        Assert.Null(admitted);
        Assert.Contains("a flag is 0 or 1", garbled, StringComparison.Ordinal);
        Assert.Contains("payload type 'transfer' is not supported", transfer, StringComparison.Ordinal);
    }

    private static ValidatorPayload RoundTrip(ValidatorPayload payload) => ValidatorPayload.Decode(payload.PayloadType, payload.Encode());

    private static byte[] Signed(Key key, string type, byte[] payload) => Ed25519Transactions.Signed(key, Chain, 1, type, payload);
}
