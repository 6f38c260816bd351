namespace IdOS.Akka.Engine.Rpc.JsonRpc;

/// <summary>
/// The JSON-RPC error codes clients see: JSON-RPC 2.0's own and Kwil's (kwil-db
/// `core/rpc/json`). They are stable: the idOS client matches on several of them.
/// </summary>
public static class RpcErrorCode
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int MethodNotFound = -32601;
    public const int InvalidParams = -32602;
    public const int Internal = -32603;

    /// <summary>A transaction refused before the mempool (encoding, signature, nonce, chain); data carries the TxCode.</summary>
    public const int BroadcastFailed = -201;
    public const int TransactionNotFound = -202;
    public const int AccountInternal = -100;

    /// <summary>A call to an action or namespace that does not exist.</summary>
    public const int UnknownAction = -300;
    public const int CallFailed = -301;

    /// <summary>No validator answered within the request's time.</summary>
    public const int Unavailable = -32002;

    /// <summary>The client went over its per-address budget for writes or challenges.</summary>
    public const int RateLimited = -32005;

    /// <summary>The call's sender has no KGW session (the client then logs in and retries).</summary>
    public const int AuthenticationRequired = -901;

    /// <summary>Private mode: a call without a signature over a challenge (the client then asks for one).</summary>
    public const int ChallengeRequired = -1001;
    public const int InvalidChallenge = -1002;
    public const int ChallengeExpired = -1003;
    public const int InvalidCallSignature = -1004;

    /// <summary>Private mode serves no SQL queries.</summary>
    public const int QueryNotAllowed = -1007;
}

/// <summary>A request that gets a JSON-RPC error: its code, message and optional data object.</summary>
public sealed class RpcException(int code, string message, System.Text.Json.Nodes.JsonNode? data = null) : Exception(message)
{
    public RpcException()
        : this(RpcErrorCode.Internal, "internal error")
    {
    }

    public RpcException(string message)
        : this(RpcErrorCode.InvalidParams, message)
    {
    }

    public RpcException(string message, Exception inner)
        : this(RpcErrorCode.InvalidParams, message + ": " + inner.Message)
    {
    }

    public int Code { get; } = code;

    public System.Text.Json.Nodes.JsonNode? ErrorData { get; } = data;

    public static RpcException InvalidParams(string message) => new(RpcErrorCode.InvalidParams, message);
}
