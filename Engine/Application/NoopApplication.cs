using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Application;

/// <summary>
/// The application of libhotstuff's benchmark, for comparing consensus alone: a command is any bytes (the cluster
/// benchmark sends 32-byte hashes), nothing is signed by clients or executed, and the app hash only chains block ids
/// so that validators still prove they committed the same blocks. Never for a network that holds anyone's data:
/// anyone who can reach a validator can fill its blocks.
/// </summary>
public sealed class NoopApplication(long executedHeight, Hash32 appHash) : IStateMachine
{
    private readonly HashChainStateMachine _chain = new(executedHeight, appHash);

    public long ExecutedHeight => _chain.ExecutedHeight;

    public Hash32 AppHash => _chain.AppHash;

    public string? CheckTransaction(ReadOnlySpan<byte> transaction) => null;

    public Hash32 Execute(Block block) => _chain.Execute(block);
}
