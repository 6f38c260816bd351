using System.Security.Cryptography;
using IdOS.Akka.Engine.Rpc.Services;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Rpc;

/// <summary>
/// Sync broadcasts waiting for execution share one results query per poll, and one per executed block that carries
/// any of them; the test says when a poll is due and when a block was executed.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ExecutionWaiterTests : IDisposable
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(1);
    private readonly FakeGateway _gateway = new();
    private readonly SemaphoreSlim _pollDue = new(0);
    private readonly ExecutionWaiter _waiter;

    public ExecutionWaiterTests() => _waiter = new ExecutionWaiter(_gateway, () => _pollDue.WaitAsync());

    public void Dispose() => _pollDue.Dispose();

    [Fact]
    public async Task Every_waited_transaction_is_asked_about_in_one_poll_in_chunks_the_node_takes()
    {
        var hashes = Enumerable.Range(0, 1_500).Select(_ => RandomNumberGenerator.GetBytes(32)).ToList();
        var waits = hashes.Select(h => _waiter.WaitFor(h, Long, CancellationToken.None)).ToList();
        foreach (var hash in hashes.Take(750))
        {
            _gateway.MarkExecuted(hash, 0, "ok");
        }

        _pollDue.Release();
        var first = await Task.WhenAll(waits.Take(750));

        Assert.All(first, r => Assert.Equal((13L, 0, "ok"), (r!.Height, r.Code, r.Log)));
        Assert.Equal([ExecutionWaiter.MaxPerQuery, 1_500 - ExecutionWaiter.MaxPerQuery], _gateway.ResultQueries);
        Assert.All(waits.Skip(750), w => Assert.False(w.IsCompleted));

        foreach (var hash in hashes.Skip(750))
        {
            _gateway.MarkExecuted(hash, 7, "failed");
        }

        _pollDue.Release();
        var rest = await Task.WhenAll(waits.Skip(750));

        Assert.All(rest, r => Assert.Equal(7, r!.Code));
        Assert.Equal([ExecutionWaiter.MaxPerQuery, 1_500 - ExecutionWaiter.MaxPerQuery, 750], _gateway.ResultQueries);
    }

    [Fact]
    public async Task A_transaction_waited_for_twice_is_asked_about_once_and_one_nobody_waits_for_any_more_not_at_all()
    {
        var abandoned = RandomNumberGenerator.GetBytes(32);
        Assert.Null(await _waiter.WaitFor(abandoned, TimeSpan.FromMilliseconds(1), CancellationToken.None));

        var twice = RandomNumberGenerator.GetBytes(32);
        var waits = new[] { _waiter.WaitFor(twice, Long, CancellationToken.None), _waiter.WaitFor(twice, Long, CancellationToken.None) };
        _gateway.MarkExecuted(twice, 0, "");
        _gateway.MarkExecuted(abandoned, 0, "");
        _pollDue.Release();

        Assert.All(await Task.WhenAll(waits), r => Assert.Equal(0, r!.Code));
        Assert.Equal([1], _gateway.ResultQueries);
    }

    [Fact]
    public async Task A_cancelled_wait_ends_with_its_cancellation()
    {
        using var cancel = new CancellationTokenSource();
        var wait = _waiter.WaitFor(RandomNumberGenerator.GetBytes(32), Long, cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
    }

    [Fact]
    public async Task An_executed_block_resolves_the_waits_it_carries_with_one_query_for_those_alone()
    {
        var executed = RandomNumberGenerator.GetBytes(32);
        var pending = RandomNumberGenerator.GetBytes(32);
        var waits = new[] { _waiter.WaitFor(executed, Long, CancellationToken.None), _waiter.WaitFor(pending, Long, CancellationToken.None) };
        _gateway.MarkExecuted(executed, 0, "ok");

        _waiter.OnExecuted([RandomNumberGenerator.GetBytes(32), executed]);

        Assert.Equal(0, (await waits[0])!.Code);
        Assert.False(waits[1].IsCompleted);
        Assert.Equal([1], _gateway.ResultQueries);

        _waiter.OnExecuted([RandomNumberGenerator.GetBytes(32)]);
        _gateway.MarkExecuted(pending, 0, "ok");
        _pollDue.Release();

        Assert.Equal(0, (await waits[1])!.Code);
        Assert.Equal([1, 1], _gateway.ResultQueries);
    }
}
