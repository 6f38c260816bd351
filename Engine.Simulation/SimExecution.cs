using IdOS.Akka.Engine.Application;
using IdOS.Akka.Engine.Consensus;

namespace IdOS.Akka.Engine.Simulation;

/// <summary>
/// Each instance's executor, as a node's runs beside its consensus actor: committed blocks are executed in height
/// order, each taking a time drawn from the seed, and their app hashes reported back to the replica, which orders on
/// meanwhile. A crash loses the queue and the application's memory; a restart first executes the stored blocks past
/// the last recorded app hash, as a node does before it starts consensus. The checker sees every correct instance's
/// app hash for every height, however it was reached.
/// </summary>
internal sealed class SimExecution(WorldConfig config, ChainParameters chain, SimRandom rng, InvariantChecker checker, Func<long> now,
    Action<long, SimEvent> schedule, Action<SimInstance, Func<IReadOnlyList<ReplicaEffect>>> step, Func<SimInstance, long> localTime,
    Action<string> trace, Func<long, long, NextEpoch?> nextEpoch)
{
    public void OnCommitted(SimInstance instance, Block block)
    {
        instance.ToExecute.Enqueue(block);
        if (instance.ToExecute.Count == 1)
        {
            ScheduleNext(instance);
        }
    }

    /// <summary>The executor finishes the oldest block it holds, if the instance has not crashed since it began.</summary>
    public void Run(SimInstance instance, long generation)
    {
        if (instance.Replica is not { } replica || instance.App is not { } app || generation != instance.ExecutorGeneration
            || !instance.ToExecute.TryDequeue(out var block))
        {
            return;
        }

        var appHash = app.Execute(block);
        trace($"{instance} executes height {block.Height}: app hash {appHash.ToShortString()}");
        Check(instance, block.Height, appHash);
        step(instance, () => replica.OnExecuted(block.Height, appHash, localTime(instance), nextEpoch(replica.Epoch.Epoch, block.Height)));
        if (instance.Replica is not null && instance.ToExecute.Count > 0)
        {
            ScheduleNext(instance);
        }
    }

    /// <summary>A restarted instance's application: rebuilt from the last recorded app hash and level with the stored blocks.</summary>
    public void Recover(SimInstance instance)
    {
        var store = instance.Store;
        var app = new HashChainStateMachine(store.ExecutedHeight, store.ExecutedHeight == 0 ? chain.GenesisAppHash : store.AppHashAt(store.ExecutedHeight)!.Value);
        for (var height = store.ExecutedHeight + 1; height <= store.Height; height++)
        {
            var appHash = app.Execute(store.GetByHeight(height)!);
            Check(instance, height, appHash);
            store.RecordAppHash(height, appHash);
        }

        instance.App = app;
        instance.ToExecute.Clear();
        instance.ExecutorGeneration++;
    }

    public static void Crash(SimInstance instance)
    {
        instance.App = null;
        instance.ToExecute.Clear();
        instance.ExecutorGeneration++;
    }

    private void Check(SimInstance instance, long height, Crypto.Hash32 appHash)
    {
        if (instance.Role == NodeRole.Correct)
        {
            checker.OnExecuted(now(), instance.Id, height, appHash);
        }
    }

    private void ScheduleNext(SimInstance instance) =>
        schedule(now() + rng.Between(config.ExecutionMinMs, config.ExecutionMaxMs), new SimEvent(EventKind.Execute, instance.Id, Generation: instance.ExecutorGeneration));
}
