using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Network;

/// <summary>
/// The node's wire protocol besides consensus: clients submitting transactions and asking for status (the RPC layer,
/// localnet, tests), and validators forwarding admitted transactions to each other. Encoded with the same canonical
/// codec as consensus, and bound to it in hocon/node.conf.
/// </summary>
public abstract record NodeMessage;

/// <summary>To a node's `/user/mempool`; answered with <see cref="SubmitResults"/> in the same order.</summary>
public sealed record SubmitTransactions(IReadOnlyList<byte[]> Transactions) : NodeMessage;

public sealed record SubmitResults(IReadOnlyList<SubmitResult> Results) : NodeMessage;

public readonly record struct SubmitResult(Hash32 Hash, MempoolAddStatus Status, string? Reason);

/// <summary>Transactions one validator admitted, passed on so that whichever validator leads next can propose them.</summary>
public sealed record ForwardedTransactions(IReadOnlyList<byte[]> Transactions) : NodeMessage;

/// <summary>
/// From one peer directory to another: the addresses at which it has validators that proved themselves. Only hints —
/// the receiver greets them, and each must still prove itself with its own signed hello — so that validators find
/// each other even when cluster membership cannot admit one (a restarted validator while another one is dead).
/// </summary>
public sealed record PeerAddresses(IReadOnlyList<string> Addresses) : NodeMessage;

/// <summary>
/// To a node's `/user/commit-feed`: from now on, send the sender a <see cref="CommittedBlock"/> for every block this
/// node commits, until the sender's system goes away. Answered first with <see cref="CommitSubscription"/>.
/// </summary>
public sealed record SubscribeCommits : NodeMessage
{
    public static SubscribeCommits Instance { get; } = new();
}

/// <summary>
/// To a node's `/user/commit-feed`: from now on, send the sender an <see cref="ExecutedBlock"/> for every block this
/// node executes, until the sender's system goes away. Answered first with <see cref="CommitSubscription"/>, whose
/// height is the executed one. What a client waiting for its transactions' results listens to.
/// </summary>
public sealed record SubscribeExecutions : NodeMessage
{
    public static SubscribeExecutions Instance { get; } = new();
}

/// <summary>Whether the feed took the subscription (it holds a bounded number) and the height it starts after.</summary>
public sealed record CommitSubscription(bool Accepted, long Height, string Reason) : NodeMessage;

/// <summary>
/// A block this node committed and executed: its height, when its leader proposed it (the header's timestamp, Unix
/// milliseconds on the leader's clock), when this node committed it (Unix microseconds on this node's clock), and its
/// transactions' hashes in block order. The two times let a client on the same machine split its latency into the
/// wait for a proposal, the rounds to the commit, and the notice's way back.
/// </summary>
public sealed record CommittedBlock(long Height, long ProposedAtUnixMs, long CommittedAtUnixUs, IReadOnlyList<Hash32> TransactionHashes) : NodeMessage
{
    /// <summary>The wall clock in the unit of <see cref="CommittedAtUnixUs"/>, for the node and for clients that compare with it.</summary>
    public static long UnixMicrosecondsNow() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
}

/// <summary>A block this node has executed: its height and its transactions' hashes in block order; their results are in the node's state.</summary>
public sealed record ExecutedBlock(long Height, IReadOnlyList<Hash32> TransactionHashes) : NodeMessage;

/// <summary>To a node's `/user/consensus`; answered with <see cref="NodeStatus"/>.</summary>
public sealed record StatusQuery : NodeMessage
{
    public static StatusQuery Instance { get; } = new();
}

/// <summary>
/// A validator's progress and health. <c>Validator</c> is its index in genesis, or
/// <see cref="Consensus.ValidatorSet.MaxValidators"/> for one that joined by governance. <c>Height</c> is committed; <c>AppHash</c> is the state's after
/// <c>ExecutedHeight</c>, which follows it. <c>ProposalsHeldForExecution</c> counts the rounds in which this
/// validator, leading, held its proposal back because its execution lagged too far behind. <c>SignaturesVerifiedByConsensus</c> counts the
/// signatures the consensus actor had to verify itself because no inbound verifier had checked them first: near zero
/// while those keep up.
/// </summary>
public sealed record NodeStatus(
    int Validator,
    long Height,
    long Round,
    Hash32 LastBlockId,
    long CommittedTransactions,
    int PendingTransactions,
    int PeersConnected,
    long RejectedMessages,
    string LastRejection,
    string ChainId,
    Hash32 AppHash,
    long LastBlockTimestampMs,
    long SignaturesVerifiedByConsensus,
    long BlockBytesServed,
    long BlockRequestsOverLimit,
    long ExecutedHeight,
    long ProposalsHeldForExecution) : NodeMessage
{
    /// <summary>The epoch whose set votes on the next block here.</summary>
    public long Epoch { get; init; }

    /// <summary>How many validators that epoch's set holds.</summary>
    public int SetSize { get; init; }

    /// <summary>Whether this node has a vote in that epoch (false once governance removed it).</summary>
    public bool Voting { get; init; }

    /// <summary>The network's committed head as far as this node can tell: the height f + 1 peers' proposals reached.</summary>
    public long NetworkHeight { get; init; }

    /// <summary>Why the node is not fit to serve (too few peers, too far behind); empty when it is healthy.</summary>
    public string Unhealthy { get; init; } = "";

    /// <summary>Catching up: further behind the network's head than the node's health allows.</summary>
    public bool Syncing { get; init; }

    /// <summary>The leader of <see cref="Round"/> as this node computes it; -1 before consensus runs.</summary>
    public int Leader { get; init; } = -1;
}

/// <summary>To a node's `/user/query`: the results of committed transactions, by hash; answered with <see cref="TransactionResults"/>.</summary>
public sealed record TransactionResultsQuery(IReadOnlyList<Hash32> Hashes, bool IncludeTransactions = false) : NodeMessage;

/// <summary>
/// One answer per hash asked, in order; null when that transaction is not in any block executed up to
/// <paramref name="ExecutedHeight"/>. Codes are the state machine's (0 ok, 1–5 Kwil's, 100 + action error).
/// </summary>
public sealed record TransactionResults(long ExecutedHeight, IReadOnlyList<TransactionOutcome?> Results) : NodeMessage;

/// <summary>Where and how a transaction executed; its bytes when asked for and its block body is not pruned.</summary>
public sealed record TransactionOutcome(long Height, int Position, int Code, string Log, byte[]? Transaction = null)
{
    public bool Equals(TransactionOutcome? other) =>
        other is not null && (Height, Position, Code, Log) == (other.Height, other.Position, other.Code, other.Log)
        && (Transaction is null ? other.Transaction is null : other.Transaction is not null && Transaction.AsSpan().SequenceEqual(other.Transaction));

    public override int GetHashCode() => HashCode.Combine(Height, Position, Code, Log);
}

/// <summary>To a node's `/user/query`: the app hash after a height; answered with <see cref="AppHashAnswer"/>.</summary>
public sealed record AppHashQuery(long Height) : NodeMessage;

/// <summary>The app hash after <paramref name="Height"/>, or null when this node has not executed it.</summary>
public sealed record AppHashAnswer(long Height, Hash32? AppHash) : NodeMessage;

/// <summary>To a node's `/user/query`: a signer's next nonce (Kwil's `user.account`); answered with <see cref="AccountAnswer"/>.</summary>
public sealed record AccountQuery(byte[] Identifier, string KeyType) : NodeMessage;

/// <summary>The nonce the signer's next transaction must carry, as of <paramref name="ExecutedHeight"/>.</summary>
public sealed record AccountAnswer(long NextNonce, long ExecutedHeight) : NodeMessage;

/// <summary>From one validator to another's sync actor: which state snapshots it holds; answered with <see cref="SnapshotOffers"/>.</summary>
public sealed record SnapshotOffersQuery : NodeMessage
{
    public static SnapshotOffersQuery Instance { get; } = new();
}

/// <summary>
/// The snapshots a validator holds, newest first, each an encoded offer (manifest and the block's own app hash). Only
/// claims: a node that syncs from one checks it against the chain's certificates and every chunk against the manifest.
/// </summary>
public sealed record SnapshotOffers(IReadOnlyList<byte[]> Offers) : NodeMessage
{
    public const int MaxOffers = 4;
}

/// <summary>From one validator to another's sync actor: one chunk of the snapshot at a height.</summary>
public sealed record SnapshotChunkQuery(long Height, int Index) : NodeMessage;

/// <summary>The chunk asked for; no bytes when the snapshot or the chunk is not held (any more).</summary>
public sealed record SnapshotChunk(long Height, int Index, byte[] Bytes) : NodeMessage;
