using System.Diagnostics;
using Akka.Actor;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Observability;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// Executes committed blocks, in the order the consensus actor committed them, on a thread of its own, and reports
/// each block's app hash back to it: ordering never waits for execution, and a slow block (SQL, disk) stalls no
/// round. The application is this actor's alone once it starts, apart from its checks of transactions, which are
/// safe beside execution. A failure to execute stops this actor, and with it the validator (fail-stop): a state that
/// missed a block cannot go on.
/// </summary>
public sealed class ExecutorActor : ReceiveActor
{
    public const string Name = "executor";

    public ExecutorActor(IStateMachine app, NodeMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var scheduled = app.ScheduledEpochs.Count;
        Receive<ExecuteBlock>(execute =>
        {
            if (execute.Block.Height != app.ExecutedHeight + 1)
            {
                throw new InvalidOperationException($"Block {execute.Block.Height} reached the executor after height {app.ExecutedHeight}.");
            }

            var started = Stopwatch.GetTimestamp();
            var appHash = app.Execute(execute.Block);
            metrics?.ExecuteBlock.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            var epochs = app.ScheduledEpochs;
            Sender.Tell(new ConsensusActor.Executed(execute.Block.Height, appHash, epochs.Count > scheduled ? epochs : null));
            scheduled = epochs.Count;
        });
    }

    /// <summary>The dispatcher with the executor's own thread (<see cref="SleepingThreadExecutorConfigurator"/>).</summary>
    public const string Dispatcher = "idos.executor-dispatcher";

    public static Props Props(IStateMachine app, NodeMetrics? metrics = null) =>
        global::Akka.Actor.Props.Create(() => new ExecutorActor(app, metrics)).WithDispatcher(Dispatcher);

    /// <summary>A committed block to execute, from the consensus actor, to which its app hash goes back; they arrive in height order.</summary>
    public sealed record ExecuteBlock(Block Block);
}
