using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Application;

/// <summary>
/// Before a validator starts consensus: execution follows commits, so a validator that stopped may hold committed
/// blocks whose app hashes were never recorded. Each is recorded now, from the application where it executed the
/// block already (its state commits block by block, ahead of the record), or by executing the stored block.
/// </summary>
public static class ExecutionCatchUp
{
    public static void Run(IStateMachine app, ICommittedBlockStore store)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(store);
        for (var height = store.ExecutedHeight + 1; height <= store.Height; height++)
        {
            Hash32 appHash;
            if (height <= app.ExecutedHeight)
            {
                appHash = app.AppHashAt(height)
                    ?? throw new InvalidOperationException($"The application executed height {height} but no longer holds its app hash.");
            }
            else
            {
                var block = height == app.ExecutedHeight + 1
                    ? store.GetByHeight(height) ?? throw new InvalidOperationException(
                        $"Block {height} is committed but not executed, and its body is no longer stored; restore the state database or a snapshot.")
                    : throw new InvalidOperationException($"The application is at height {app.ExecutedHeight} and cannot execute block {height} next.");
                appHash = app.Execute(block);
            }

            store.RecordAppHash(height, appHash);
        }
    }
}
