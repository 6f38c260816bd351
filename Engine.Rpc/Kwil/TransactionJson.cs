using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Rpc.JsonRpc;

namespace IdOS.Akka.Engine.Rpc.Kwil;

/// <summary>
/// Kwil's JSON form of a transaction to and from <see cref="KwilTransaction"/>, as Go's
/// encoding/json writes it: bytes as padded standard base64, the sender as hex without 0x, the nonce a number, the
/// fee a decimal string. A fee that is null, "" or missing means 0 (not nil), as kwild decodes it; a missing
/// signature (the half-built transaction of `user.estimate_price`) is allowed only where the caller says so.
/// </summary>
public static class TransactionJson
{
    public static KwilTransaction Parse(JsonElement json, bool requireSignature)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            throw RpcException.InvalidParams("tx must be an object");
        }

        var body = Property(json, "body") is { ValueKind: JsonValueKind.Object } b ? b : throw RpcException.InvalidParams("tx.body must be an object");
        var description = OptionalString(body, "desc") ?? "";
        if (System.Text.Encoding.UTF8.GetByteCount(description) > KwilTransaction.MaxDescriptionBytes)
        {
            throw RpcException.InvalidParams($"tx.body.desc is longer than {KwilTransaction.MaxDescriptionBytes} bytes");
        }

        var transactionBody = new KwilTransactionBody(
            description,
            OptionalBase64(body, "payload", "tx.body.payload"),
            OptionalString(body, "type") ?? "",
            Fee(body),
            Nonce(body),
            OptionalString(body, "chain_id") ?? "");
        return new KwilTransaction(Signature(json, requireSignature), transactionBody, OptionalString(json, "serialization") ?? KwilTransaction.ConcatSerialization,
            OptionalHex(json, "sender", "tx.sender"));
    }

    public static JsonObject Render(KwilTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var body = transaction.Body;
        return new JsonObject
        {
            ["signature"] = new JsonObject
            {
                ["sig"] = transaction.Signature is null ? null : Convert.ToBase64String(transaction.Signature.Data),
                ["type"] = transaction.Signature?.Type ?? "",
            },
            ["body"] = new JsonObject
            {
                ["desc"] = body.Description,
                ["payload"] = body.Payload is null ? null : Convert.ToBase64String(body.Payload),
                ["type"] = body.PayloadType,
                ["fee"] = (body.Fee ?? BigInteger.Zero).ToString(CultureInfo.InvariantCulture),
                ["nonce"] = body.Nonce,
                ["chain_id"] = body.ChainId,
            },
            ["sender"] = transaction.Sender is null ? null : Convert.ToHexStringLower(transaction.Sender),
            ["serialization"] = transaction.Serialization,
        };
    }

    /// <summary>Hex as Go's HexBytes reads it, and leniently as users type it: 0x and upper case are accepted.</summary>
    public static byte[] Hex(string text, string what)
    {
        ArgumentNullException.ThrowIfNull(text);
        var digits = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        try
        {
            return Convert.FromHexString(digits);
        }
        catch (FormatException)
        {
            throw RpcException.InvalidParams($"{what} is not hex");
        }
    }

    private static KwilSignature? Signature(JsonElement json, bool required)
    {
        var signature = Property(json, "signature");
        var data = signature is { ValueKind: JsonValueKind.Object } s ? OptionalBase64(s, "sig", "tx.signature.sig") : null;
        var type = signature is { ValueKind: JsonValueKind.Object } t ? OptionalString(t, "type") : null;
        if (data is null || type is null)
        {
            return required ? throw RpcException.InvalidParams("tx.signature needs sig and type") : null;
        }

        return new KwilSignature(data, type);
    }

    private static BigInteger Fee(JsonElement body)
    {
        var fee = OptionalString(body, "fee");
        return string.IsNullOrEmpty(fee) ? BigInteger.Zero
            : BigInteger.TryParse(fee, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value
            : throw RpcException.InvalidParams("tx.body.fee is not a non-negative decimal integer");
    }

    private static ulong Nonce(JsonElement body) => Property(body, "nonce") switch
    {
        null or { ValueKind: JsonValueKind.Null } => 0,
        { ValueKind: JsonValueKind.Number } n when n.TryGetUInt64(out var nonce) => nonce,
        _ => throw RpcException.InvalidParams("tx.body.nonce is not an unsigned 64-bit integer"),
    };

    private static JsonElement? Property(JsonElement json, string name) => json.TryGetProperty(name, out var value) ? value : null;

    private static string? OptionalString(JsonElement json, string name) => Property(json, name) switch
    {
        null or { ValueKind: JsonValueKind.Null } => null,
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        _ => throw RpcException.InvalidParams($"{name} must be a string"),
    };

    /// <summary>A base64 field that may be missing or null; anything else than base64 text is invalid params.</summary>
    internal static byte[]? OptionalBase64(JsonElement json, string name, string what)
    {
        var text = OptionalString(json, name);
        if (text is null)
        {
            return null;
        }

        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw RpcException.InvalidParams($"{what} is not base64");
        }
    }

    private static byte[]? OptionalHex(JsonElement json, string name, string what) =>
        OptionalString(json, name) is { Length: > 0 } text ? Hex(text, what) : null;
}
