using IdOS.Akka.Engine.Consensus;

namespace IdOS.Akka.Engine.Persistence;

/// <summary>
/// What a validator journals. Persisted payloads keep their serializer id and manifest forever, so these are bound to
/// our own canonical codec from the start (hocon/node.conf), never to a default serializer.
/// </summary>
public interface IConsensusEvent;

/// <summary>The safety state after a vote or timeout; journaled before the message it covers is sent.</summary>
public sealed record SafetyStateRecorded(SafetyState State) : IConsensusEvent;

/// <summary>An uncommitted block kept for a restart (the replica's <see cref="PersistBlock"/> effect).</summary>
public sealed record BlockKept(Block Block) : IConsensusEvent;
