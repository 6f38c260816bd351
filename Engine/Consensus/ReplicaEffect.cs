using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// What a replica asks its host to do, in order. The order is the contract: a <see cref="PersistSafetyState"/> comes
/// before every message it covers, and the host must not carry out anything after a persist that failed.
/// </summary>
public abstract record ReplicaEffect;

/// <summary>To every other validator instance.</summary>
public sealed record Broadcast(ConsensusMessage Message) : ReplicaEffect;

/// <summary>To every instance of one validator (the leader a vote is for, a peer asked for blocks).</summary>
public sealed record SendToValidator(int Validator, ConsensusMessage Message) : ReplicaEffect;

/// <summary>Back to the one instance a message came from.</summary>
public sealed record Reply(PeerId Peer, ConsensusMessage Message) : ReplicaEffect;

/// <summary>
/// Durably keep an uncommitted block before carrying out any later effect. A QC may name a block that only its
/// voters hold; if they all restarted without it, no leader could extend the chain again. Hand the kept blocks back
/// to the replica on restart; those at or below the committed height can be dropped.
/// </summary>
public sealed record PersistBlock(Block Block) : ReplicaEffect;

/// <summary>Durably store the safety state before carrying out any later effect.</summary>
public sealed record PersistSafetyState(SafetyState State) : ReplicaEffect;

/// <summary>Call <see cref="Replica.OnTimer"/> with this round after the delay; replaces any earlier timer.</summary>
public sealed record ArmRoundTimer(long Round, long DelayMs) : ReplicaEffect;

/// <summary>
/// A block was committed and stored. Hand it to the executor, in this order, and report its app hash through
/// <see cref="Replica.OnExecuted"/>.
/// </summary>
public sealed record BlockCommitted(Block Block) : ReplicaEffect;

/// <summary>A committed block's app hash, reported by the executor, is recorded with it.</summary>
public sealed record BlockExecuted(Block Block, Hash32 AppHash) : ReplicaEffect;

/// <summary>A peer message was dropped; counted and visible to operators.</summary>
public sealed record MessageRejected(PeerId From, string Reason) : ReplicaEffect;

public sealed record EquivocationDetected(Equivocation Evidence) : ReplicaEffect;

/// <summary>A leader claimed an app hash for a height that differs from the one this validator computed.</summary>
public sealed record AppHashDivergence(long Height, Hash32 Local, Hash32 Claimed, Hash32 ClaimingBlock) : ReplicaEffect;

/// <summary>
/// Catching up by height has stopped at <see cref="NextHeight"/>: every peer asked has pruned that block's body (up to
/// <see cref="PrunedHeight"/>). Only a state snapshot can bring this validator past it.
/// </summary>
public sealed record CatchUpNeedsSnapshot(long NextHeight, long PrunedHeight) : ReplicaEffect;

/// <summary>
/// The epoch's last block committed (<see cref="Proof"/> shows how, unless it took more empty blocks than a proof
/// holds): this replica is done. The host starts the next epoch's replica on the same store, or stops voting if this
/// validator is not in the next set.
/// </summary>
public sealed record EpochEnded(long Epoch, Block LastBlock, EpochProof? Proof) : ReplicaEffect;
