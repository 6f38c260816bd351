using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Actors;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Actors;

/// <summary>The executor actor's dispatcher, as the node's configuration sets it up: one thread of its own, messages in order.</summary>
[Trait("Category", "Unit")]
public sealed class SleepingThreadExecutorTests() : global::Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString(TestFiles.NodeConf))
{
    [Fact]
    public void The_executor_dispatcher_runs_its_actor_on_one_thread_of_its_own_in_order()
    {
        var actor = Sys.ActorOf(Props.Create(() => new ThreadReporter()).WithDispatcher(ExecutorActor.Dispatcher));

        for (var i = 0; i < 100; i++)
        {
            actor.Tell(i);
        }

        var replies = Enumerable.Range(0, 100).Select(_ => ExpectMsg<(int Sequence, int Thread, bool Pooled)>()).ToList();
        Assert.Equal(Enumerable.Range(0, 100), replies.Select(r => r.Sequence));
        Assert.Single(replies.Select(r => r.Thread).Distinct());
        Assert.DoesNotContain(replies, r => r.Pooled);
    }

    [Fact]
    public void A_shut_down_executor_refuses_work_and_its_thread_ends()
    {
        var executor = new SleepingThreadExecutorConfigurator(ConfigurationFactory.Empty, null!).Produce("test-executor");
        using var ran = new ManualResetEventSlim();
        executor.Execute(new Runnable(ran.Set));
        Assert.True(ran.Wait(TimeSpan.FromSeconds(10)));

        executor.Shutdown();

        Assert.ThrowsAny<Exception>(() => executor.Execute(new Runnable(() => { })));
    }

    private sealed class ThreadReporter : ReceiveActor
    {
        public ThreadReporter() =>
            Receive<int>(sequence => Sender.Tell((sequence, Environment.CurrentManagedThreadId, Thread.CurrentThread.IsThreadPoolThread)));
    }

    private sealed class Runnable(Action action) : global::Akka.Dispatch.IRunnable
    {
        public void Run() => action();

        // Akka's runnables are also thread-pool work items.
        public void Execute() => action();
    }
}
