using IdOS.Akka.Engine.Rpc.Services;

namespace IdOS.Akka.Engine.Tests.Rpc;

/// <summary>
/// A validator stand-in for the RPC tests: fixed chain, nonces the test sets, submissions recorded (and executed at
/// once with a chosen result when asked), and views that answer with the identity they ran as.
/// </summary>
internal sealed class FakeGateway : INodeGateway
{
    public const string ChainId = "idos-capture-test";

    private readonly Dictionary<string, ExecutedTransaction> _executed = new(StringComparer.Ordinal);

    /// <summary>Each account's last used nonce ("keytype:hex"); reads answer the next one, as a validator does.</summary>
    public Dictionary<string, long> Nonces { get; } = new(StringComparer.Ordinal);

    public List<byte[]> Submitted { get; } = [];

    /// <summary>Every read batch that reached this "validator", in order.</summary>
    public List<ReadBatch> Batches { get; } = [];

    public (int Code, string Log)? ExecuteOnSubmit { get; set; }

    public void MarkExecuted(byte[] transactionHash, int code, string log)
    {
        lock (_executed)
        {
            _executed[Convert.ToHexStringLower(transactionHash)] = new ExecutedTransaction(13, code, log, null);
        }
    }

    /// <summary>The size of every results query, in order.</summary>
    public List<int> ResultQueries { get; } = [];

    public Task<ChainSnapshot> Chain(CancellationToken cancel) =>
        Task.FromResult(new ChainSnapshot(ChainId, 12, new string('a', 64), new string('b', 64), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 3));

    public Task<SubmitVerdict> Submit(byte[] transaction, CancellationToken cancel)
    {
        lock (_executed)
        {
            Submitted.Add(transaction);
            if (ExecuteOnSubmit is { } result)
            {
                _executed[Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(transaction))] = new ExecutedTransaction(13, result.Code, result.Log, transaction);
            }
        }

        return Task.FromResult(new SubmitVerdict(SubmitStatus.Added, null));
    }

    /// <summary>A committed entry whose bytes are whatever the test says, decodable or not.</summary>
    public void MarkExecuted(byte[] transactionHash, int code, string log, byte[] transaction)
    {
        lock (_executed)
        {
            _executed[Convert.ToHexStringLower(transactionHash)] = new ExecutedTransaction(13, code, log, transaction);
        }
    }

    public Task<ExecutedTransaction?> Executed(byte[] transactionHash, CancellationToken cancel)
    {
        lock (_executed)
        {
            return Task.FromResult(_executed.GetValueOrDefault(Convert.ToHexStringLower(transactionHash)));
        }
    }

    public Task<IReadOnlyList<TransactionResult?>> Results(IReadOnlyList<byte[]> transactionHashes, CancellationToken cancel)
    {
        lock (ResultQueries)
        {
            ResultQueries.Add(transactionHashes.Count);
        }

        lock (_executed)
        {
            return Task.FromResult<IReadOnlyList<TransactionResult?>>([.. transactionHashes.Select(h =>
                _executed.GetValueOrDefault(Convert.ToHexStringLower(h)) is { } e ? new TransactionResult(e.Height, e.Code, e.Log) : null)]);
        }
    }

    public Task<ReadBatchReply> Read(ReadBatch batch, CancellationToken cancel)
    {
        lock (Batches)
        {
            Batches.Add(batch);
        }

        return Task.FromResult(new ReadBatchReply(12, [.. batch.Views.Select(c => new ViewCallResult(0, "", ["caller"], [[c.Caller]]))],
            [.. batch.Accounts.Select(a => Nonces.GetValueOrDefault(a.KeyType + ":" + Convert.ToHexStringLower(a.Identifier)) + 1)]));
    }
}
