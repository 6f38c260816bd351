using System.Text.Json;
using System.Text.Json.Nodes;

namespace IdOS.Akka.Engine.Rpc.JsonRpc;

/// <summary>What a handler may read of the HTTP request, and the cookies it sets on the answer.</summary>
public sealed class RequestContext(string? remoteAddress, string? cookieHeader, string baseUrl = "")
{
    public string? RemoteAddress { get; } = remoteAddress;

    public string? CookieHeader { get; } = cookieHeader;

    /// <summary>Scheme and host the client addressed (http://127.0.0.1:8484): what a KGW login names as its domain.</summary>
    public string BaseUrl { get; } = baseUrl;

    /// <summary>The value of a cookie the client sent, however many attributes it copied along with it.</summary>
    public string? Cookie(string name)
    {
        foreach (var part in (CookieHeader ?? "").Split(';', StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && string.Equals(part[..equals], name, StringComparison.Ordinal))
            {
                return part[(equals + 1)..];
            }
        }

        return null;
    }

    public List<string> SetCookies { get; } = [];
}

/// <summary>One JSON-RPC method: its params object in, its result object out, or an <see cref="RpcException"/>.</summary>
public delegate Task<JsonNode> RpcMethod(JsonElement parameters, RequestContext context, CancellationToken cancel);

/// <summary>The HTTP answer to one request: status (kwild's mapping of error codes), JSON body, cookies to set.</summary>
public sealed record RpcResponse(int HttpStatus, string Body, IReadOnlyList<string> SetCookies)
{
    /// <summary>The JSON-RPC error code; 0 for a result.</summary>
    public int Code { get; init; }

    /// <summary>The method, when the server has it; "unknown" otherwise, and "invalid" before a method is read.</summary>
    public string Method { get; init; } = "invalid";
}

/// <summary>
/// JSON-RPC 2.0 over one POST body, hardened for untrusted clients: the body size and JSON depth are bounded,
/// batches are refused (the client never sends them), and every malformed request gets a stable JSON-RPC error —
/// never an exception out of here. HTTP statuses follow kwild: -32601 → 404, -32600/-32602/-32700 → 400,
/// -32603 → 500, everything else → 200 (the client reads Kwil's errors from 200 answers).
/// </summary>
public sealed class JsonRpcDispatcher(IReadOnlyDictionary<string, RpcMethod> methods, int maxBodyBytes, TimeSpan timeout)
{
    public const int MaxDepth = 32;
    public const int TimedOut = -32001;

    private static readonly JsonDocumentOptions Options = new() { MaxDepth = MaxDepth };

    /// <summary>Where each request is counted by method and code, with its duration; none in tests that do not look.</summary>
    public RpcMetrics? Metrics { get; init; }

    public async Task<RpcResponse> Handle(ReadOnlyMemory<byte> body, RequestContext context, CancellationToken cancel)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var response = await Answer(body, context, cancel);
        Metrics?.Observe(response.Method, response.Code, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        return response;
    }

    private async Task<RpcResponse> Answer(ReadOnlyMemory<byte> body, RequestContext context, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (body.Length > maxBodyBytes)
        {
            return Error(null, RpcErrorCode.InvalidRequest, $"the request body is over {maxBodyBytes} bytes", null, context);
        }

        // JSON strings are decoded only when read, so a byte that is no UTF-8, or an escaped half of a surrogate pair,
        // would surface as an exception deep in a handler: both are refused here, in one pass each.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            return Error(null, RpcErrorCode.ParseError, "the body is not valid UTF-8", null, context);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, Options);
        }
        catch (JsonException e)
        {
            return Error(null, RpcErrorCode.ParseError, $"the body is not JSON: {e.Message}", null, context);
        }

        if (InvalidEscapedString(body.Span) is { } invalid)
        {
            document.Dispose();
            return Error(null, RpcErrorCode.ParseError, invalid, null, context);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                return Error(null, RpcErrorCode.InvalidRequest, "batch requests are not supported; send one request per POST", null, context);
            }

            if (root.ValueKind != JsonValueKind.Object)
            {
                return Error(null, RpcErrorCode.InvalidRequest, "a request is a JSON object", null, context);
            }

            var id = root.TryGetProperty("id", out var idElement) && idElement.ValueKind is JsonValueKind.Number or JsonValueKind.String
                ? JsonNode.Parse(idElement.GetRawText())
                : null;
            if (!root.TryGetProperty("jsonrpc", out var version) || version.ValueKind != JsonValueKind.String || version.GetString() != "2.0")
            {
                return Error(id, RpcErrorCode.InvalidRequest, "jsonrpc must be \"2.0\"", null, context);
            }

            if (!root.TryGetProperty("method", out var methodElement) || methodElement.ValueKind != JsonValueKind.String)
            {
                return Error(id, RpcErrorCode.InvalidRequest, "method must be a string", null, context);
            }

            var name = methodElement.GetString()!;
            if (!methods.TryGetValue(name, out var method))
            {
                return Error(id, RpcErrorCode.MethodNotFound, $"method {name} does not exist", null, context) with { Method = "unknown" };
            }

            return await Call(name, method, id, root, context, cancel) with { Method = name };
        }
    }

    private async Task<RpcResponse> Call(string name, RpcMethod method, JsonNode? id, JsonElement root, RequestContext context, CancellationToken cancel)
    {
        var parameters = root.TryGetProperty("params", out var p) ? p : default;
        if (parameters.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null))
        {
            return Error(id, RpcErrorCode.InvalidParams, "params must be an object", null, context);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(timeout);
        try
        {
            var result = await method(parameters.ValueKind == JsonValueKind.Object ? parameters : EmptyObject(), context, deadline.Token);
            var answer = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["result"] = result };
            return new RpcResponse(200, answer.ToJsonString(), context.SetCookies);
        }
        catch (RpcException e)
        {
            return Error(id, e.Code, e.Message, e.ErrorData, context);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return Error(id, TimedOut, $"{name} did not finish within {timeout.TotalSeconds:0} s", null, context);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
        {
            // What System.Text.Json throws when a handler reads a value as a kind it is not: the request's fault.
            return Error(id, RpcErrorCode.InvalidParams, $"params of {name} are malformed: {e.Message}", null, context);
        }
    }

    /// <summary>The first string or property name whose escapes do not decode to text (a lone surrogate); null when all do.</summary>
    private static string? InvalidEscapedString(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = MaxDepth });
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
            {
                try
                {
                    reader.GetString();
                }
                catch (InvalidOperationException)
                {
                    return $"the string at byte {reader.TokenStartIndex} escapes half of a UTF-16 surrogate pair, which is no text";
                }
            }
        }

        return null;
    }

    private static JsonElement EmptyObject()
    {
        using var empty = JsonDocument.Parse("{}");
        return empty.RootElement.Clone();
    }

    private static RpcResponse Error(JsonNode? id, int code, string message, JsonNode? data, RequestContext context)
    {
        var error = new JsonObject { ["code"] = code, ["message"] = message };
        if (data is not null)
        {
            error["data"] = data.DeepClone();
        }

        var status = code switch
        {
            RpcErrorCode.MethodNotFound => 404,
            RpcErrorCode.InvalidRequest or RpcErrorCode.InvalidParams or RpcErrorCode.ParseError => 400,
            RpcErrorCode.Internal => 500,
            _ => 200,
        };
        return new RpcResponse(status, new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["error"] = error }.ToJsonString(), context.SetCookies) { Code = code };
    }
}
