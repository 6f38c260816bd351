using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// The application behind consensus. Consensus orders blocks and does not wait for this: the host hands each
/// committed block to an executor, which executes them in height order, deterministically, off the consensus thread,
/// and reports each app hash back (<see cref="Replica.OnExecuted"/>). The app hash after a height must be the same on
/// every correct validator; a later block's header carries its proposer's, which voters compare with their own.
/// </summary>
public interface IStateMachine
{
    long ExecutedHeight { get; }

    Hash32 AppHash { get; }

    /// <summary>
    /// Whether a transaction may enter a mempool, or the reason it may not. It must not depend on uncommitted state:
    /// validators check what peers forward them, and they must all reach the same answer. It is called from the
    /// mempool while blocks execute, so it must be safe to call concurrently with <see cref="Execute"/>.
    /// </summary>
    string? CheckTransaction(ReadOnlySpan<byte> transaction);

    /// <summary>
    /// <see cref="CheckTransaction(ReadOnlySpan{byte})"/> for a mempool that holds the transaction's
    /// <see cref="Block.TransactionHash"/>, with the transaction's place in its sender's line where the application
    /// orders by sender (the mempool then hands it on in nonce order).
    /// </summary>
    MempoolVerdict CheckForMempool(ReadOnlySpan<byte> transaction, Hash32 hash) => new(CheckTransaction(transaction), null);

    Hash32 Execute(Block block);

    /// <summary>The app hash after <paramref name="height"/>, if this application still knows it (at least for <see cref="ExecutedHeight"/>).</summary>
    Hash32? AppHashAt(long height) => height == ExecutedHeight ? AppHash : null;

    /// <summary>
    /// The validator sets the executed state scheduled after genesis, oldest first; none for an application without
    /// governance. Called where <see cref="Execute"/> is, after it.
    /// </summary>
    IReadOnlyList<ScheduledEpoch> ScheduledEpochs => [];
}

/// <summary>
/// A transaction's place in its sender's line, for an application whose senders' transactions execute in nonce
/// order. <paramref name="Sender"/> names the account in the application's own terms.
/// </summary>
public readonly record struct SenderNonce(string Sender, ulong Nonce);

/// <summary>The application's answer for a mempool: the reason a transaction may not enter, or its place in its sender's line (if it has one).</summary>
public readonly record struct MempoolVerdict(string? Refusal, SenderNonce? Place);

/// <summary>
/// Durable committed blocks, each with the QC that certifies it, and the app hash after each executed one (recorded
/// later than the block: execution follows ordering). A restarted replica resumes from here: the last block is its
/// committed root and its QC lets it extend the chain at once.
/// </summary>
public interface ICommittedBlockStore
{
    long Height { get; }

    /// <summary>The highest height whose app hash is recorded; every height below it has one too.</summary>
    long ExecutedHeight { get; }

    void Append(Block block, QuorumCertificate certificate);

    /// <summary>The app hash after <paramref name="height"/>, which is stored and the next after <see cref="ExecutedHeight"/>.</summary>
    void RecordAppHash(long height, Hash32 appHash);

    Block? GetByHeight(long height);

    /// <summary>The header and transaction hashes of a committed height, whether its body is kept or pruned.</summary>
    PrunedBlock? HeaderAt(long height) => GetByHeight(height) is { } block ? new PrunedBlock(block.Header, block.TransactionHashes) : null;

    Block? GetById(Hash32 id);

    QuorumCertificate? CertificateAt(long height);

    Hash32? AppHashAt(long height);

    /// <summary>
    /// Keeps the QC that proved the newest commit, durably with the commit itself. It is often the only copy: the next
    /// leader forms it and commits, and until it proposes nobody else holds it. A validator that restarts without it
    /// would stand a block ahead of the others with no way to show them why, and leader election, which reads the
    /// committed chain, would then disagree between them for good.
    /// </summary>
    void KeepCommitProof(QuorumCertificate certificate);

    /// <summary>The QC last given to <see cref="KeepCommitProof"/>; null before the first commit.</summary>
    QuorumCertificate? CommitProof { get; }

    /// <summary>Keeps how <paramref name="epoch"/> ended, for validators that missed its end and ask (<see cref="EpochEndRequest"/>).</summary>
    void KeepEpochProof(long epoch, EpochProof proof)
    {
    }

    /// <summary>The proof kept for <paramref name="epoch"/>; null if this store kept none.</summary>
    EpochProof? EpochProofOf(long epoch) => null;

    bool ContainsTransaction(Hash32 transactionHash);

    /// <summary>
    /// <see cref="ContainsTransaction"/> for each of <paramref name="transactionHashes"/> into <paramref name="committed"/>:
    /// a store whose lookups miss the cache can overlap the misses of a batch.
    /// </summary>
    void FindCommitted(ReadOnlySpan<Hash32> transactionHashes, Span<bool> committed)
    {
        for (var i = 0; i < transactionHashes.Length; i++)
        {
            committed[i] = ContainsTransaction(transactionHashes[i]);
        }
    }
}

/// <summary>An opaque handle for the peer a message came from, so that replies go to that instance and no other.</summary>
public readonly record struct PeerId(int Value)
{
    /// <summary>This replica itself, for its own proposal.</summary>
    public static PeerId Self => new(-1);
}

/// <summary>Which of <paramref name="hashes"/> are committed, one flag each.</summary>
public delegate void CommittedLookup(ReadOnlySpan<Hash32> hashes, Span<bool> committed);
