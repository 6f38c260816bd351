using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Application;

/// <summary>
/// The application the simulator (and benchmarks) run: transactions are opaque, and the app hash chains the block id
/// and every transaction hash, so any divergence in what was executed shows in the hash.
/// </summary>
public sealed class HashChainStateMachine(long executedHeight, Hash32 appHash) : IStateMachine
{
    public long ExecutedHeight { get; private set; } = executedHeight;

    public Hash32 AppHash { get; private set; } = appHash;

    public string? CheckTransaction(ReadOnlySpan<byte> transaction) => null;

    public Hash32 Execute(Block block)
    {
        ArgumentNullException.ThrowIfNull(block);
        var buffer = new byte[Hash32.Size * (2 + block.TransactionHashes.Count)];
        AppHash.WriteTo(buffer);
        block.Id.WriteTo(buffer.AsSpan(Hash32.Size));
        for (var i = 0; i < block.TransactionHashes.Count; i++)
        {
            block.TransactionHashes[i].WriteTo(buffer.AsSpan(Hash32.Size * (2 + i)));
        }

        AppHash = Hash32.Compute(buffer);
        ExecutedHeight = block.Height;
        return AppHash;
    }
}
