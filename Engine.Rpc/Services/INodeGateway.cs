namespace IdOS.Akka.Engine.Rpc.Services;

/// <summary>The chain as a validator reports it: what `user.chain_info` and `user.health` show.</summary>
public sealed record ChainSnapshot(string ChainId, long Height, string BlockHash, string AppHash, long BlockTimeMs, int PeerCount);

public enum SubmitStatus
{
    Added,
    Duplicate,
    Refused,
}

/// <summary>A mempool's answer to one transaction; <paramref name="Reason"/> says why it was refused.</summary>
public sealed record SubmitVerdict(SubmitStatus Status, string? Reason);

/// <summary>
/// An executed transaction: where, its result, and its bytes — null when the block body was pruned past the
/// retention window, which `user.tx_query` then has to say.
/// </summary>
public sealed record ExecutedTransaction(long Height, int Code, string Log, byte[]? Transaction);

/// <summary>A VIEW call to run: the Kwil ActionCall payload and the proven identity it runs as (empty: anonymous).</summary>
public sealed record ViewCallRequest(string Caller, byte[] Signer, string Authenticator, byte[] Payload);

/// <summary>A view's table, or its refusal: code 1 (payload does not decode) or 100 + action error, with the message.</summary>
public sealed record ViewCallResult(int Code, string Error, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<object?>> Rows);

/// <summary>
/// What the RPC layer needs of the validators. The node's implementation sends these to a healthy validator's
/// actors over Akka.Remote and fails over; tests use an in-memory one.
/// </summary>
public interface INodeGateway
{
    Task<ChainSnapshot> Chain(CancellationToken cancel);

    /// <summary>The last nonce the account used in an executed transaction (0 for a new account).</summary>
    Task<long> LastNonce(byte[] identifier, string keyType, CancellationToken cancel);

    Task<SubmitVerdict> Submit(byte[] transaction, CancellationToken cancel);

    /// <summary>The transaction's execution, or null while it is not executed (or unknown).</summary>
    Task<ExecutedTransaction?> Executed(byte[] transactionHash, CancellationToken cancel);

    /// <summary>Runs the views against one state version of a validator, answers in order.</summary>
    Task<IReadOnlyList<ViewCallResult>> Views(IReadOnlyList<ViewCallRequest> calls, CancellationToken cancel);
}
