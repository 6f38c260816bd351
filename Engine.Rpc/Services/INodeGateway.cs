using IdOS.Akka.Engine.Kwil.Reads;

namespace IdOS.Akka.Engine.Rpc.Services;

/// <summary>The chain as a validator reports it: what `user.chain_info` and `user.health` show.</summary>
public sealed record ChainSnapshot(string ChainId, long Height, string BlockHash, string AppHash, long BlockTimeMs, int PeerCount)
{
    /// <summary>The network's head as the validator can tell.</summary>
    public long NetworkHeight { get; init; }

    /// <summary>Why the validator is not fit to serve; empty when it is.</summary>
    public string Unhealthy { get; init; } = "";

    public bool Syncing { get; init; }
}

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

/// <summary>Where a transaction executed and its result, without its bytes: what a sync broadcast answers with.</summary>
public sealed record TransactionResult(long Height, int Code, string Log);

/// <summary>A VIEW call to run: the Kwil ActionCall payload and the proven identity it runs as (empty: anonymous).</summary>
public sealed record ViewCallRequest(string Caller, byte[] Signer, string Authenticator, byte[] Payload);

/// <summary>A view's table, or its refusal: code 1 (payload does not decode) or 100 + action error, with the message.</summary>
public sealed record ViewCallResult(int Code, string Error, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<object?>> Rows);

/// <summary>Reads to run together against one state version: views, and accounts whose last nonce to look up.</summary>
public sealed record ReadBatch(IReadOnlyList<ViewCallRequest> Views, IReadOnlyList<AccountKey> Accounts);

/// <summary>A batch's answers in order, all read after block <paramref name="Height"/>; a nonce is 0 for a new account.</summary>
public sealed record ReadBatchReply(long Height, IReadOnlyList<ViewCallResult> Views, IReadOnlyList<long> NextNonces);

/// <summary>
/// What the RPC layer needs of the validators. The node's implementation sends these to a healthy validator's
/// actors over Akka.Remote and fails over; tests use an in-memory one.
/// </summary>
public interface INodeGateway
{
    Task<ChainSnapshot> Chain(CancellationToken cancel);

    Task<SubmitVerdict> Submit(byte[] transaction, CancellationToken cancel);

    /// <summary>The transaction's execution, or null while it is not executed (or unknown).</summary>
    Task<ExecutedTransaction?> Executed(byte[] transactionHash, CancellationToken cancel);

    /// <summary>
    /// The results of up to <see cref="ExecutionWaiter.MaxPerQuery"/> transactions in order, null for each not executed
    /// (or unknown); one question for all of them, and no transaction bytes read.
    /// </summary>
    Task<IReadOnlyList<TransactionResult?>> Results(IReadOnlyList<byte[]> transactionHashes, CancellationToken cancel);

    /// <summary>Runs the batch against one state version of a validator's committed state.</summary>
    Task<ReadBatchReply> Read(ReadBatch batch, CancellationToken cancel);
}
