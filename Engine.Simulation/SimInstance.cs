using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Simulation;

/// <summary>What happens at a point of virtual time.</summary>
internal enum EventKind : byte
{
    Deliver,
    Timer,
    ClientTransaction,
    PartitionChange,
    Crash,
    Restart,
    Gst,
    Flap,
    Execute,
}

/// <summary>One scheduled event: a delivery to an instance, its timer, or a world-wide one (instance -1).</summary>
internal sealed record SimEvent(EventKind Kind, int Instance, int From = -1, byte[]? Payload = null, long Round = 0, long Generation = 0);

/// <summary>One running copy of a validator (twins are two) and what survives its crashes: storage, safety state, kept blocks.</summary>
internal sealed class SimInstance(int id, int validator, NodeRole role, Ed25519PrivateKey key, long clockSkewMs)
{
    public int Id { get; } = id;

    public int Validator { get; } = validator;

    public NodeRole Role { get; } = role;

    public Ed25519PrivateKey Key { get; } = key;

    public long ClockSkewMs { get; set; } = clockSkewMs;

    public SimBlockStore Store { get; } = new();

    /// <summary>The persisted safety state, as bytes: what survives a crash.</summary>
    public byte[]? SafetyState { get; set; }

    /// <summary>Uncommitted blocks the replica asked to keep; they survive a crash.</summary>
    public Dictionary<Hash32, Block> PendingBlocks { get; } = [];

    public Replica? Replica { get; set; }

    /// <summary>The executor's application and the committed blocks waiting for it; lost in a crash.</summary>
    public Application.HashChainStateMachine? App { get; set; }

    public Queue<Block> ToExecute { get; } = new();

    public long ExecutorGeneration { get; set; }

    public long TimerGeneration { get; set; }

    public int? CrashAfterEffects { get; set; }

    public int CommitsAfterGst { get; set; }

    /// <summary>The parameters of the epoch the instance's replica runs in: its set maps validator indices to keys.</summary>
    public ChainParameters? Chain { get; set; }

    /// <summary>How the last epoch the instance saw end ended; kept like its safety state, for its next epoch's proposals.</summary>
    public EpochProof? EpochProof { get; set; }

    /// <summary>Left out of the validator set: the instance has no vote and no replica any more.</summary>
    public bool Retired { get; set; }

    public override string ToString() => $"instance {Id} (validator {Validator}{(Role == NodeRole.Correct ? "" : ", " + Role)})";
}
