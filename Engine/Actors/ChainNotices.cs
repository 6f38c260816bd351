using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// Published on the event stream after each committed block is stored (its execution follows), with the block's
/// proposal time (its header's timestamp) and the wall-clock time it was published.
/// </summary>
public sealed record BlockCommittedNotice(long Height, Hash32 BlockId, long Round, IReadOnlyList<Hash32> TransactionHashes,
    long ProposedAtUnixMs, long CommittedAtUnixUs, int EncodedBytes);

/// <summary>Published on the event stream once a committed block's app hash is recorded: its transactions' results are in the state.</summary>
public sealed record BlockExecutedNotice(long Height, IReadOnlyList<Hash32> TransactionHashes);
