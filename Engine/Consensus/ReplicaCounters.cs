namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// What a replica counts for its operator (read by the host for metrics; nothing in the protocol reads them back).
/// Timeouts are counted once per round this validator signs a timeout in, by what the round lacked.
/// </summary>
public sealed class ReplicaCounters
{
    /// <summary>Rounds in which this validator, leading, held its proposal back because its executor lagged too far behind.</summary>
    public long ProposalsHeldForExecution { get; internal set; }

    /// <summary>Its timer ran out in a round whose leader's proposal never arrived.</summary>
    public long TimeoutsWithoutProposal { get; internal set; }

    /// <summary>Its timer ran out in a round whose proposal arrived, but no QC for it did.</summary>
    public long TimeoutsWithoutQuorum { get; internal set; }

    /// <summary>It timed out because f + 1 others did, before its own timer ran out.</summary>
    public long TimeoutsJoined { get; internal set; }
}
