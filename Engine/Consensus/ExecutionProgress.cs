using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// How far execution trails ordering on this validator: the committed blocks handed to the executor and not yet
/// reported, in height order, and the app hash after the last reported one (the store records each).
/// </summary>
internal sealed class ExecutionProgress
{
    private readonly ICommittedBlockStore _store;
    private readonly int _maxLagBlocks;
    private readonly Queue<Block> _executing = new();

    public ExecutionProgress(ChainParameters chain, ICommittedBlockStore store, int maxLagBlocks)
    {
        _store = store;
        _maxLagBlocks = maxLagBlocks;

        // Committed and not executed yet: a restarting host executes them before it starts a replica, but a replica
        // that opens an epoch takes the reports of its predecessor's last blocks, which are still with the executor.
        for (var height = store.ExecutedHeight + 1; height <= store.Height; height++)
        {
            _executing.Enqueue(store.GetByHeight(height) ?? throw new ArgumentException(
                $"The block store holds height {store.Height} with app hashes up to {store.ExecutedHeight}, and no longer the body of {height} to execute.",
                nameof(store)));
        }

        AppHash = store.ExecutedHeight == 0 ? chain.GenesisAppHash : store.AppHashAt(store.ExecutedHeight)!.Value;
    }

    public long Height => _store.ExecutedHeight;

    public Hash32 AppHash { get; private set; }

    /// <summary>The committed height runs more than the bound ahead of the executed one.</summary>
    public bool IsLagging => _store.Height - _store.ExecutedHeight > _maxLagBlocks;

    public void Committed(Block block) => _executing.Enqueue(block);

    /// <summary>Records the executor's report, which must be for the oldest block it was handed; returns that block.</summary>
    public Block Executed(long height, Hash32 appHash)
    {
        if (!_executing.TryPeek(out var block) || block.Height != height)
        {
            throw new InvalidOperationException(
                $"The executor reported height {height}, but the next committed block to execute is {(block is null ? "none" : block.Height)}.");
        }

        _executing.Dequeue();
        _store.RecordAppHash(height, appHash);
        AppHash = appHash;
        return block;
    }
}
