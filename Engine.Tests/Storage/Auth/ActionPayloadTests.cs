using System.Text;
using IdOS.Akka.Engine.Kwil.Transactions;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage.Auth;

/// <summary>Action payloads the real client sent decode to what it meant and re-encode byte for byte.</summary>
[Trait("Category", "Unit")]
public sealed class ActionPayloadTests
{
    private const string AddAttribute =
        "AAAEAAAAbWFpbg0AAABhZGRfYXR0cmlidXRlAQADACwAAAAAAA8AAAAAAAAAAAR1dWlkAAAAAAABABEAAAABC3sujpoMTV6POhwtPk9aayQAAAAAAA8AAAAAAAAAAAR0ZXh0AAAAAAABAAkAAAABbmlja25hbWUhAAAAAAAPAAAAAAAAAAAEdGV4dAAAAAAAAQAGAAAAAWFsaWNl";

    [Fact]
    public void The_captured_add_attribute_payload_decodes_to_its_arguments_and_re_encodes_identically()
    {
        var bytes = Convert.FromBase64String(AddAttribute);

        var execution = ActionPayload.DecodeExecution(bytes);

        Assert.Equal("main", execution.Namespace);
        Assert.Equal("add_attribute", execution.Action);
        var call = Assert.Single(execution.Calls);
        Assert.Equal(["uuid", "text", "text"], call.Select(a => a.Type.Name));
        Assert.Equal(Guid.Parse("0b7b2e8e-9a0c-4d5e-8f3a-1c2d3e4f5a6b"), new Guid(call[0].Elements[0]!, bigEndian: true));
        Assert.Equal("nickname", Encoding.UTF8.GetString(call[1].Elements[0]!));
        Assert.Equal("alice", Encoding.UTF8.GetString(call[2].Elements[0]!));
        Assert.Equal(bytes, ActionPayload.Encode(execution));
        Assert.Equal(bytes, ActionPayload.Encode(new ActionExecution("main", "add_attribute",
            [[KwilValue.OfUuid(Guid.Parse("0b7b2e8e-9a0c-4d5e-8f3a-1c2d3e4f5a6b")), KwilValue.OfText("nickname"), KwilValue.OfText("alice")]])));
    }

    [Fact]
    public void The_captured_view_calls_encode_as_the_client_sent_them()
    {
        Assert.Equal("AAAEAAAAbWFpbg4AAABnZXRfYXR0cmlidXRlcwAA", Convert.ToBase64String(ActionPayload.Encode(new ActionCall("main", "get_attributes", []))));

        var grants = ActionPayload.Encode(new ActionCall("main", "get_access_grants_granted",
            [KwilValue.OfUuid(null), KwilValue.OfWholeNumber(1), KwilValue.OfWholeNumber(20)]));
        var decoded = ActionPayload.DecodeCall(grants);
        Assert.Null(decoded.Arguments[0].Elements[0]);
        Assert.Equal("uuid", decoded.Arguments[0].Type.Name);
        Assert.Equal(Convert.FromHexString("0000000000000014"), decoded.Arguments[2].Elements[0]);
    }

    [Fact]
    public void Type_aliases_fold_to_the_canonical_names_and_unknown_types_are_refused()
    {
        Assert.Equal("int8", KwilDataType.Canonical("BIGINT"));
        Assert.Equal("bytea", KwilDataType.Canonical("blob"));
        Assert.Throws<KwilFormatException>(() => KwilDataType.Canonical("float8"));
    }

    [Fact]
    public void Truncated_or_trailing_bytes_and_a_scalar_with_two_elements_are_refused()
    {
        var bytes = Convert.FromBase64String(AddAttribute);

        Assert.Throws<KwilFormatException>(() => ActionPayload.DecodeExecution(bytes.AsSpan(0, bytes.Length - 1)));
        Assert.Throws<KwilFormatException>(() => ActionPayload.DecodeExecution([.. bytes, 0]));
        Assert.Throws<KwilFormatException>(() => ActionPayload.DecodeExecution([1, .. bytes.AsSpan(1)]));
        var twoElements = new KwilValue(KwilDataType.Text, [[1], [2]]);
        Assert.Contains("scalar text with 2 elements",
            Assert.Throws<KwilFormatException>(() => ActionPayload.DecodeCall(ActionPayload.Encode(new ActionCall("main", "x", [twoElements])))).Message,
            StringComparison.Ordinal);
    }
}
