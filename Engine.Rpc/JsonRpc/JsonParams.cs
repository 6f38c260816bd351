using System.Text.Json;

namespace IdOS.Akka.Engine.Rpc.JsonRpc;

/// <summary>Reads of request parameters that answer a wrong kind or an out-of-range value with -32602 naming the field.</summary>
public static class JsonParams
{
    /// <summary>
    /// An optional integer flag or count: absent or null gives null; a number outside [<paramref name="min"/>,
    /// <paramref name="max"/>], a fraction or another kind is the client's error.
    /// </summary>
    public static long? OptionalInteger(JsonElement parameters, string name, long min, long max)
    {
        if (parameters.ValueKind != JsonValueKind.Object || !parameters.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number) && number >= min && number <= max
            ? number
            : throw RpcException.InvalidParams($"{name} must be an integer from {min} to {max}, not {Shown(value)}");
    }

    private static string Shown(JsonElement value)
    {
        var raw = value.GetRawText();
        return raw.Length <= 40 ? raw : raw[..40] + "…";
    }
}
