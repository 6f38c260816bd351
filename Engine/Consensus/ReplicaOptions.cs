using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>A replica's bounds and policies; a node uses the defaults with its configured pacemaker.</summary>
public sealed record ReplicaOptions
{
    public static ReplicaOptions Default { get; } = new();

    public PacemakerPolicy Pacemaker { get; init; } = PacemakerPolicy.Default;

    public int MempoolMaxTransactions { get; init; } = 100_000;

    public long MempoolMaxBytes { get; init; } = 256L << 20;

    /// <summary>
    /// Committed blocks the executor may be behind by before this validator, leading, holds its proposal back until
    /// it catches up: ordering runs ahead of execution, and without a bound a slow state machine would let the chain
    /// commit work faster than any validator executes it.
    /// </summary>
    public int MaxExecutionLagBlocks { get; init; } = 2;

    /// <summary>Block fetches in flight at once; more would let one lagging node flood its peers.</summary>
    public int MaxOutstandingFetches { get; init; } = 16;

    /// <summary>A block fetch not answered within this long goes to another peer; a large answer takes a while to arrive.</summary>
    public long FetchRetryMs { get; init; } = 2_000;

    /// <summary>
    /// A validator whose committed block is this many rounds behind a QC it sees catches up by height, in ranges from
    /// several peers (<see cref="ForwardSync"/>), instead of walking back from the certified block.
    /// </summary>
    public long ForwardSyncAfterRounds { get; init; } = 128;

    /// <summary>Ranges of blocks asked for or held at once while catching up by height.</summary>
    public int ForwardSyncWindow { get; init; } = 4;

    /// <summary>Fetched blocks held while their ancestors are still on the way.</summary>
    public int MaxOrphanBlocks { get; init; } = 4_096;

    /// <summary>
    /// Their encoded bytes at most: blocks may be up to the block limit each, and the count alone would let a peer's
    /// answers (genuine blocks of some fork, hash-chained to a certified id) hold gigabytes.
    /// </summary>
    public long MaxOrphanBytes { get; init; } = 256L << 20;

    /// <summary>
    /// Votes and timeouts for rounds further ahead than this are refused before they are stored: any key holder can
    /// sign them for any round, and correct validators are never that far apart (a lagging one catches up from the
    /// certificates in proposals and in timeouts' high QCs, which are processed regardless).
    /// </summary>
    public long MaxRoundsAhead { get; init; } = 1_000;

    /// <summary>
    /// Wraps the safety rules a replica signs through. Only the simulator's positive controls set it, to run a
    /// deliberately broken voting rule that the checker must catch; a node never does.
    /// </summary>
    public Func<SafetyRules, IVotingRules>? DecorateSafetyRules { get; init; }

    /// <summary>
    /// The empty-journal guard, for a validator that starts with nothing journaled. A node always keeps it on: it cannot
    /// tell a new validator from one whose data folder was emptied. The simulator turns it off, as its worlds start as a
    /// new network that every validator knows is new, and no simulated crash loses a journal; held votes in a world's
    /// first rounds would only blunt its positive controls (the Twins fork was found in no seed of 1,000 with it on).
    /// </summary>
    public bool GuardEmptyJournal { get; init; } = true;
}

/// <summary>
/// What a replica of an epoch after genesis's starts from: the height of the epoch's first block, the parameters of
/// the epoch before (whose set signed the QC of the block this one opens on) and how that block committed, which its
/// first proposals carry (null if the host lost it in a crash: other leaders carry it). <see cref="Opening"/> is set
/// when the host starts the epoch as the last one ended, not on a restart: then nothing can have been proposed in it.
/// </summary>
public sealed record ReplicaEpoch(long StartHeight, ChainParameters Previous, EpochProof? OpeningProof, bool Opening)
{
    /// <summary>The QC of the block the epoch opens on is checked against the previous epoch's set.</summary>
    internal void OpenOn(SignatureChecks checks, QuorumCertificate lastBlockQc, ISignatureVerifier verifier) =>
        checks.OpenOn(lastBlockQc, new SignatureChecks(Previous, verifier));
}
