using Akka.Configuration;
using Akka.Dispatch;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// A dispatcher's executor with one thread of its own that sleeps while there is nothing to run. Akka's own
/// dedicated threads (<c>PinnedDispatcher</c>, the <c>dedicated-thread-pool</c> executors) spin on
/// <c>sched_yield</c> before they sleep: at block size 1 the executor actor's pinned thread spent 4 % of both
/// cores yielding (perf, 2026-12-05), as the other dispatchers' did before they moved to the thread pool. Blocking
/// work (a block's SQL and fsync) still gets a thread that no other actor waits behind. Use as
/// <c>executor = "IdOS.Akka.Engine.Actors.SleepingThreadExecutorConfigurator, idos-engine"</c>.
/// </summary>
public sealed class SleepingThreadExecutorConfigurator(Config config, IDispatcherPrerequisites prerequisites)
    : ExecutorServiceConfigurator(config, prerequisites)
{
    public override ExecutorService Produce(string id) => new SleepingThreadExecutor(id);
}

/// <summary>Runs what it is given in order on its thread; after <see cref="Shutdown"/> it finishes what it holds and ends.</summary>
internal sealed class SleepingThreadExecutor : ExecutorService
{
    private readonly Queue<IRunnable> _queue = new();
    private readonly object _gate = new();
    private bool _shutDown;

    public SleepingThreadExecutor(string id)
        : base(id)
    {
        new Thread(RunAll) { IsBackground = true, Name = id }.Start();
    }

    public override void Execute(IRunnable run)
    {
        lock (_gate)
        {
            if (_shutDown)
            {
                throw new RejectedExecutionException($"The executor of dispatcher {Id} has shut down.");
            }

            _queue.Enqueue(run);
            if (_queue.Count == 1)
            {
                Monitor.Pulse(_gate);
            }
        }
    }

    public override void Shutdown()
    {
        lock (_gate)
        {
            _shutDown = true;
            Monitor.Pulse(_gate);
        }
    }

    private void RunAll()
    {
        while (true)
        {
            IRunnable next;
            lock (_gate)
            {
                while (_queue.Count == 0)
                {
                    if (_shutDown)
                    {
                        return;
                    }

                    Monitor.Wait(_gate);
                }

                next = _queue.Dequeue();
            }

            next.Run();
        }
    }
}
