using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// The application behind consensus. It executes committed blocks in height order, deterministically, and its app
/// hash after a height must be the same on every correct validator.
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

    Hash32 Execute(Block block);

    /// <summary>
    /// What a proposal may carry of the mempool's <paramref name="candidates"/> (in their order), extending the
    /// uncommitted blocks <paramref name="uncommitted"/> (oldest first): an application whose transactions must run
    /// in sequence leaves out those whose predecessors this validator does not have yet. Deterministic on the
    /// committed state. Every candidate, by default.
    /// </summary>
    IReadOnlyList<byte[]> ForProposal(IReadOnlyList<byte[]> candidates, IReadOnlyList<Block> uncommitted) => candidates;
}

/// <summary>
/// Durable committed blocks, each with the QC that certifies it and the app hash after executing it. A restarted
/// replica resumes from here: the last block is its committed root and its QC lets it extend the chain at once.
/// </summary>
public interface ICommittedBlockStore
{
    long Height { get; }

    void Append(Block block, QuorumCertificate certificate, Hash32 appHash);

    Block? GetByHeight(long height);

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
