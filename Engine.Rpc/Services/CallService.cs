using System.Text.Json;
using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Rpc.JsonRpc;
using IdOS.Akka.Engine.Rpc.Kwil;
using IdOS.Akka.Engine.Rpc.Reads;
using IdOS.Akka.Engine.Storage.Transactions;

namespace IdOS.Akka.Engine.Rpc.Services;

/// <summary>
/// `user.call`: VIEW actions over committed state (kwil-protocol.md §3.8). A call that names a sender runs as that
/// sender only with a KGW session for it — otherwise -901, and the client logs in and asks again; a call without a
/// sender runs anonymously and sees no user's private rows. Values are rendered as kwild renders them: int8 and
/// UUIDs as strings, bytes as base64.
/// </summary>
public sealed class CallService(ReadBatcher reads, KgwSessions sessions)
{
    public IReadOnlyDictionary<string, RpcMethod> Methods => new Dictionary<string, RpcMethod>(StringComparer.Ordinal) { ["user.call"] = Call };

    private async Task<JsonNode> Call(JsonElement parameters, RequestContext context, CancellationToken cancel)
    {
        if (!parameters.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.Object
            || !body.TryGetProperty("payload", out var payloadElement) || payloadElement.ValueKind != JsonValueKind.String)
        {
            throw RpcException.InvalidParams("body.payload (base64 action call) is required");
        }

        byte[] payload;
        try
        {
            payload = Convert.FromBase64String(payloadElement.GetString()!);
        }
        catch (FormatException)
        {
            throw RpcException.InvalidParams("body.payload is not base64");
        }

        var senderText = parameters.TryGetProperty("sender", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "";
        var request = new ViewCallRequest("", [], "", payload);
        if (senderText.Length > 0)
        {
            var sender = TransactionJson.Hex(senderText, "sender");
            var session = sessions.SessionOf(context);
            if (session is null || !session.Sender.AsSpan().SequenceEqual(sender))
            {
                throw new RpcException(RpcErrorCode.AuthenticationRequired, "not authorized");
            }

            request = new ViewCallRequest(KwilAuthenticator.Caller(session.SignatureType, sender), sender, session.SignatureType, payload);
        }

        var result = await reads.View(request, cancel);
        return result.Code switch
        {
            0 => new JsonObject { ["query_result"] = Table(result), ["logs"] = "", ["error"] = null },
            1 => throw RpcException.InvalidParams($"body.payload is not an action call: {result.Error}"),
            114 => throw new RpcException(RpcErrorCode.UnknownAction, result.Error),
            _ => new JsonObject { ["query_result"] = Table(result), ["logs"] = "", ["error"] = result.Error },
        };
    }

    private static JsonObject Table(ViewCallResult result)
    {
        var types = new JsonArray();
        for (var column = 0; column < result.Columns.Count; column++)
        {
            var sample = result.Rows.Select(r => r[column]).FirstOrDefault(v => v is not null);
            types.Add(new JsonObject
            {
                ["name"] = sample switch { Guid => "uuid", long or int => "int8", bool => "bool", byte[] => "bytea", _ => "text" },
                ["is_array"] = false,
                ["metadata"] = new JsonArray(0, 0),
            });
        }

        var values = new JsonArray();
        foreach (var row in result.Rows)
        {
            values.Add(new JsonArray([.. row.Select(Value)]));
        }

        return new JsonObject { ["column_names"] = new JsonArray([.. result.Columns.Select(c => (JsonNode)c)]), ["column_types"] = types, ["values"] = values };
    }

    private static JsonNode? Value(object? value) => value switch
    {
        null => null,
        Guid guid => guid.ToString("D"),
        long or int => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
        bool flag => flag,
        byte[] bytes => Convert.ToBase64String(bytes),
        _ => value.ToString(),
    };
}
