using System.Text.Json;
using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Rpc.JsonRpc;
using IdOS.Akka.Engine.Rpc.Kwil;
using IdOS.Akka.Engine.Rpc.Reads;
using IdOS.Akka.Engine.Rpc.Verification;

namespace IdOS.Akka.Engine.Rpc.Services;

/// <summary>
/// `user.call`: VIEW actions over committed state. A call that names a sender runs as that
/// sender only once the sender proved it: with a KGW session for it — otherwise -901, and the client logs in and
/// asks again — or, in private mode, with its signature over a fresh challenge on every call (-1001…-1004). A call
/// without a sender runs anonymously and sees no user's private rows; private mode refuses it. Values are rendered
/// as kwild renders them: int8 and UUIDs as strings, bytes as base64.
/// </summary>
public sealed class CallService(ReadBatcher reads, KgwSessions sessions, ViewChallenges? privateMode, VerifierPool verifiers)
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
        if (privateMode is not null)
        {
            request = await SignedOverChallenge(privateMode, parameters, body, senderText, payload, cancel);
        }
        else if (senderText.Length > 0)
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

    private async Task<ViewCallRequest> SignedOverChallenge(ViewChallenges challenges, JsonElement parameters, JsonElement body, string senderText, byte[] payload,
        CancellationToken cancel)
    {
        var signature = TransactionJson.OptionalBase64(parameters, "signature", "signature");
        if (signature is not { Length: > 0 } || senderText.Length == 0)
        {
            throw new RpcException(RpcErrorCode.ChallengeRequired, "this node is in private mode: sign the call over a challenge from user.challenge");
        }

        var challenge = TransactionJson.OptionalBase64(body, "challenge", "body.challenge");
        if (challenge is not { Length: ViewChallenges.Size })
        {
            throw new RpcException(RpcErrorCode.InvalidChallenge, $"body.challenge must be {ViewChallenges.Size} bytes of base64");
        }

        if (challenges.Take(challenge) != ChallengeState.Valid)
        {
            throw new RpcException(RpcErrorCode.ChallengeExpired, "the challenge is unknown, used or expired; ask user.challenge again");
        }

        ActionCall call;
        try
        {
            call = ActionPayload.DecodeCall(payload);
        }
        catch (KwilFormatException e)
        {
            throw RpcException.InvalidParams($"body.payload is not an action call: {e.Message}");
        }

        var sender = TransactionJson.Hex(senderText, "sender");
        var type = parameters.TryGetProperty("auth_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
        var text = System.Text.Encoding.UTF8.GetBytes(ViewChallenges.SignedText(call, payload, challenge));
        var check = await verifiers.Message(type, sender, text, signature, cancel);
        return check.IsValid
            ? new ViewCallRequest(KwilAuthenticator.Caller(type, sender), sender, type, payload)
            : throw new RpcException(RpcErrorCode.InvalidCallSignature, $"the call's signature does not verify: {check.Refusal}");
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
