using IdOS.Akka.Engine.Rpc.Reads;
using IdOS.Akka.Engine.Rpc.Services;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Rpc;

/// <summary>
/// The read batcher: while a batch is out at the validator, reads that arrive wait and leave together in one
/// message; each caller gets its own answer; a failed batch fails exactly its own reads; "off" sends one per read.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ReadBatcherTests : IDisposable
{
    private readonly RpcActors _actors = new();

    public void Dispose() => _actors.Dispose();

    [Fact]
    public async Task Reads_arriving_while_a_batch_is_out_go_together_and_each_gets_its_own_answer()
    {
        var validator = new HeldGateway();
        var reads = _actors.Reads(validator, new ReadBatchSettings(TimeSpan.Zero, 64, 1));

        var first = reads.View(View("first"), CancellationToken.None);
        await validator.Arrived.WaitAsync(TimeSpan.FromSeconds(10));
        var views = Enumerable.Range(0, 10).Select(i => reads.View(View($"caller-{i}"), CancellationToken.None)).ToList();
        var nonces = Enumerable.Range(0, 5).Select(i => reads.NextNonce([(byte)i], "ed25519", CancellationToken.None)).ToList();
        // The reads were told to the batcher before the first answer can come back, so its mailbox holds them first.
        validator.Release();

        Assert.Equal("first", (await first).Rows[0][0]);
        for (var i = 0; i < views.Count; i++)
        {
            Assert.Equal($"caller-{i}", (await views[i]).Rows[0][0]);
        }

        for (var i = 0; i < nonces.Count; i++)
        {
            Assert.Equal(100 + i, await nonces[i]);
        }

        Assert.Equal([(1, 0), (10, 5)], validator.Batches.Select(b => (b.Views.Count, b.Accounts.Count)));
    }

    [Fact]
    public async Task A_full_batch_leaves_at_its_maximum_and_the_rest_follow()
    {
        var validator = new HeldGateway();
        var reads = _actors.Reads(validator, new ReadBatchSettings(TimeSpan.Zero, 4, 1));

        var first = reads.View(View("first"), CancellationToken.None);
        await validator.Arrived.WaitAsync(TimeSpan.FromSeconds(10));
        var rest = Enumerable.Range(0, 9).Select(i => reads.View(View($"caller-{i}"), CancellationToken.None)).ToList();
        validator.Release();
        await Task.WhenAll(rest.Append(first));

        Assert.Equal([1, 4, 4, 1], validator.Batches.Select(b => b.Views.Count));
    }

    [Fact]
    public async Task A_window_holds_a_lone_read_until_it_elapses_or_the_batch_fills()
    {
        var validator = new HeldGateway(hold: false);
        var reads = _actors.Reads(validator, new ReadBatchSettings(TimeSpan.FromMilliseconds(200), 3, 1));

        var calls = Enumerable.Range(0, 3).Select(i => reads.View(View($"caller-{i}"), CancellationToken.None)).ToList();
        await Task.WhenAll(calls);
        var lone = await reads.View(View("lone"), CancellationToken.None);

        Assert.Equal("lone", lone.Rows[0][0]);
        Assert.Equal([3, 1], validator.Batches.Select(b => b.Views.Count));
    }

    [Fact]
    public async Task A_failed_batch_fails_its_own_reads_and_the_next_batch_still_goes()
    {
        var validator = new HeldGateway(hold: false) { FailNext = true };
        var reads = _actors.Reads(validator);

        var failed = await Assert.ThrowsAsync<InvalidOperationException>(() => reads.View(View("unlucky"), CancellationToken.None));
        var next = await reads.View(View("next"), CancellationToken.None);

        Assert.Equal("the validator went away", failed.Message);
        Assert.Equal("next", next.Rows[0][0]);
    }

    [Fact]
    public async Task Off_sends_every_read_as_a_message_of_its_own()
    {
        var validator = new HeldGateway(hold: false);
        var reads = _actors.Reads(validator, ReadBatchSettings.Off);

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => reads.View(View($"caller-{i}"), CancellationToken.None)));

        Assert.Equal(20, validator.Batches.Count);
        Assert.All(validator.Batches, b => Assert.Single(b.Views));
    }

    private static ViewCallRequest View(string caller) => new(caller, [], "", [1]);

    /// <summary>A validator that holds every batch until released, so the test decides when answers come back.</summary>
    private sealed class HeldGateway(bool hold = true) : INodeGateway
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<ReadBatch> Batches { get; } = [];

        public Task Arrived => _arrived.Task;

        public bool FailNext { get; set; }

        public void Release() => _release.TrySetResult();

        public async Task<ReadBatchReply> Read(ReadBatch batch, CancellationToken cancel)
        {
            lock (Batches)
            {
                Batches.Add(batch);
            }

            _arrived.TrySetResult();
            if (hold)
            {
                await _release.Task;
            }

            if (FailNext)
            {
                FailNext = false;
                throw new InvalidOperationException("the validator went away");
            }

            return new ReadBatchReply(7, [.. batch.Views.Select(v => new ViewCallResult(0, "", ["caller"], [[v.Caller]]))],
                [.. batch.Accounts.Select(a => 100L + a.Identifier[0])]);
        }

        public Task<ChainSnapshot> Chain(CancellationToken cancel) => throw new NotSupportedException();

        public Task<SubmitVerdict> Submit(byte[] transaction, CancellationToken cancel) => throw new NotSupportedException();

        public Task<ExecutedTransaction?> Executed(byte[] transactionHash, CancellationToken cancel) => throw new NotSupportedException();

        public Task<IReadOnlyList<TransactionResult?>> Results(IReadOnlyList<byte[]> transactionHashes, CancellationToken cancel) => throw new NotSupportedException();
    }
}
