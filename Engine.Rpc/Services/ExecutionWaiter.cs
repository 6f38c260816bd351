namespace IdOS.Akka.Engine.Rpc.Services;

/// <summary>
/// Sync broadcasts wait for their transactions together. A validator's execution feed says which transactions a block
/// it executed carries (<see cref="OnExecuted"/>), and only those of them that are waited for are asked about, in one
/// results query; so a result is fetched once, when it exists. A poll at a slower interval asks about everything still
/// waited for, in chunks the node takes, in case the feed is down or the validator asked had not executed the block
/// yet. Each broadcast asking on its own had been most of a validator's work with hundreds of clients waiting.
/// </summary>
public sealed class ExecutionWaiter
{
    /// <summary>The node's limit on the hashes of one results query.</summary>
    public const int MaxPerQuery = 1024;

    private readonly INodeGateway _gateway;
    private readonly Func<Task> _untilNextPoll;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Waiting> _waiting = new(StringComparer.Ordinal);
    private bool _polling;

    public ExecutionWaiter(INodeGateway gateway, TimeSpan pollInterval)
        : this(gateway, () => Task.Delay(pollInterval))
    {
    }

    /// <param name="gateway">The validators asked.</param>
    /// <param name="untilNextPoll">Completes when the next poll is due: a delay, or a test's barrier.</param>
    public ExecutionWaiter(INodeGateway gateway, Func<Task> untilNextPoll)
    {
        _gateway = gateway;
        _untilNextPoll = untilNextPoll;
    }

    /// <summary>The transaction's result once executed, or null if <paramref name="timeout"/> passes first.</summary>
    public async Task<TransactionResult?> WaitFor(byte[] transactionHash, TimeSpan timeout, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(transactionHash);
        var key = Convert.ToHexStringLower(transactionHash);
        Waiting waiting;
        bool startPolling;
        lock (_gate)
        {
            if (!_waiting.TryGetValue(key, out waiting!))
            {
                waiting = new Waiting(transactionHash);
                _waiting[key] = waiting;
            }

            waiting.Waiters++;
            startPolling = !_polling;
            _polling = true;
        }

        if (startPolling)
        {
            _ = Task.Run(Poll, CancellationToken.None);
        }

        try
        {
            return await waiting.Done.Task.WaitAsync(timeout, cancel);
        }
        catch (TimeoutException)
        {
            return null;
        }
        finally
        {
            lock (_gate)
            {
                // The same transaction broadcast twice is waited for once; it stops being asked about when nobody waits.
                if (--waiting.Waiters == 0 && _waiting.TryGetValue(key, out var current) && current == waiting)
                {
                    _waiting.Remove(key);
                }
            }
        }
    }

    /// <summary>A validator executed a block with these transactions: those waited for are asked about now.</summary>
    public void OnExecuted(IReadOnlyList<byte[]> transactionHashes)
    {
        ArgumentNullException.ThrowIfNull(transactionHashes);
        List<Waiting> executed = [];
        lock (_gate)
        {
            if (_waiting.Count == 0)
            {
                return;
            }

            foreach (var hash in transactionHashes)
            {
                if (_waiting.TryGetValue(Convert.ToHexStringLower(hash), out var waiting))
                {
                    executed.Add(waiting);
                }
            }
        }

        if (executed.Count > 0)
        {
            _ = Task.Run(() => Ask(executed), CancellationToken.None);
        }
    }

    /// <summary>Asks while anything is waited for, then stops; the next wait starts it again.</summary>
    private async Task Poll()
    {
        try
        {
            await PollWhileWaited();
        }
        catch
        {
            // Whatever stopped this loop, the next wait must be able to start another.
            lock (_gate)
            {
                _polling = false;
            }

            throw;
        }
    }

    private async Task PollWhileWaited()
    {
        while (true)
        {
            await _untilNextPoll();
            List<Waiting> waited;
            lock (_gate)
            {
                if (_waiting.Count == 0)
                {
                    _polling = false;
                    return;
                }

                waited = [.. _waiting.Values.Where(w => !w.Done.Task.IsCompleted)];
            }

            await Ask(waited);
        }
    }

    private async Task Ask(List<Waiting> waited)
    {
        foreach (var chunk in waited.Chunk(MaxPerQuery))
        {
            IReadOnlyList<TransactionResult?> results;
            try
            {
                results = await _gateway.Results([.. chunk.Select(w => w.Hash)], CancellationToken.None);
            }
            catch (Exception e) when (e is JsonRpc.RpcException or TimeoutException or OperationCanceledException)
            {
                // No validator answered: the waits go on until their own timeouts, and the next poll asks again.
                continue;
            }

            for (var i = 0; i < chunk.Length && i < results.Count; i++)
            {
                if (results[i] is { } result)
                {
                    chunk[i].Done.TrySetResult(result);
                }
            }
        }
    }

    private sealed class Waiting(byte[] hash)
    {
        public byte[] Hash { get; } = hash;

        public TaskCompletionSource<TransactionResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Waiters { get; set; }
    }
}
