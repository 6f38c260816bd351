using Akka.Actor;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Rpc.Explorer;
using IdOS.Akka.Engine.Rpc.Services;

namespace IdOS.Akka.Engine.Gateway;

/// <summary>
/// The RPC layer's way to the validators: the node protocol over Akka.Remote through a <see cref="NodeClient"/>. It
/// keeps to one validator while that one answers and moves on to the next when it does not, so a dead validator
/// costs one timeout, not every request; validators that failed to answer in the last half minute are asked last.
/// </summary>
public sealed class ValidatorGateway(NodeClient client, IReadOnlyList<Address> validators, TimeSpan askTimeout) : INodeGateway, IExplorerGateway
{
    private const long FailureMemoryMs = 30_000;
    private readonly long[] _failedAtMs = new long[validators.Count];
    private int _current;

    public async Task<ChainSnapshot> Chain(CancellationToken cancel)
    {
        var status = await Ask((node, timeout) => client.Status(node, timeout), cancel);
        return new ChainSnapshot(status.ChainId, status.Height, status.LastBlockId.ToString(), status.AppHash.ToString(), status.LastBlockTimestampMs,
            status.PeersConnected) { NetworkHeight = status.NetworkHeight, Unhealthy = status.Unhealthy, Syncing = status.Syncing };
    }

    public async Task<SubmitVerdict> Submit(byte[] transaction, CancellationToken cancel)
    {
        var result = (await Ask((node, timeout) => client.Submit(node, [transaction], timeout), cancel)).Results[0];
        return result.Status switch
        {
            MempoolAddStatus.Added => new SubmitVerdict(SubmitStatus.Added, null),
            MempoolAddStatus.Duplicate => new SubmitVerdict(SubmitStatus.Duplicate, result.Reason),
            _ => new SubmitVerdict(SubmitStatus.Refused, result.Reason),
        };
    }

    public async Task<ExecutedTransaction?> Executed(byte[] transactionHash, CancellationToken cancel)
    {
        var answer = await Ask((node, timeout) => client.Results(node, [new Hash32(transactionHash)], timeout, includeTransactions: true), cancel);
        return answer.Results[0] is { } outcome ? new ExecutedTransaction(outcome.Height, outcome.Code, outcome.Log, outcome.Transaction) : null;
    }

    public async Task<IReadOnlyList<TransactionResult?>> Results(IReadOnlyList<byte[]> transactionHashes, CancellationToken cancel)
    {
        var answer = await Ask((node, timeout) => client.Results(node, [.. transactionHashes.Select(h => new Hash32(h))], timeout), cancel);
        return [.. answer.Results.Select(r => r is null ? null : new TransactionResult(r.Height, r.Code, r.Log))];
    }

    public async Task<ReadBatchReply> Read(ReadBatch batch, CancellationToken cancel)
    {
        var query = new Network.ReadBatchQuery([.. batch.Views.Select(c => new Network.ViewCall(c.Caller, c.Signer, c.Authenticator, c.Payload))],
            [.. batch.Accounts.Select(a => new Network.AccountRef(a.Identifier, a.KeyType))], 0);
        var answer = await Ask((node, timeout) => client.Read(node, query, timeout), cancel);
        return new ReadBatchReply(answer.Height, [.. answer.Answers.Select(a => new ViewCallResult(a.Code, a.Error, a.Columns, a.Rows))],
            answer.NextNonces);
    }

    public async Task<ExplorerBlocks> RecentBlocks(long atOrBelow, int count, CancellationToken cancel)
    {
        var answer = await Ask((node, timeout) => client.Explore<RecentBlocksAnswer>(node, new RecentBlocksQuery(atOrBelow, count), timeout), cancel);
        return new ExplorerBlocks(answer.CommittedHeight, answer.ExecutedHeight, [.. answer.Blocks.Select(block => ExplorerBlockOf(block, answer.Sets))]);
    }

    public async Task<ExplorerBlockPage> Block(long height, int transactionOffset, int transactionLimit, CancellationToken cancel)
    {
        var answer = await Ask((node, timeout) => client.Explore<BlockAnswer>(node, new BlockQuery(height, transactionOffset, transactionLimit), timeout), cancel);
        return new ExplorerBlockPage(answer.CommittedHeight, answer.ExecutedHeight, answer.Block is { } block ? ExplorerBlockOf(block, answer.Sets) : null,
            [.. answer.Transactions.Select(t => new ExplorerTransaction(t.Hash.ToString(), t.Action, t.Bytes, t.Code))]);
    }

    public async Task<ExplorerValidators> Validators(CancellationToken cancel)
    {
        var answer = await Ask((node, timeout) => client.Explore<ValidatorsAnswer>(node, ValidatorsQuery.Instance, timeout), cancel);
        return new ExplorerValidators(answer.Height, answer.Set.Epoch, [.. answer.Set.Keys.Select((key, index) =>
            new ValidatorVote(index, key.ToString(), answer.LastVoteHeights[index], answer.LastVoteTimesMs[index]))]);
    }

    private static ExplorerBlock ExplorerBlockOf(BlockSummary block, IReadOnlyList<EpochKeys> sets)
    {
        var keys = sets.FirstOrDefault(set => set.Epoch == block.Epoch)?.Keys ?? [];
        ValidatorRef Validator(int index) => new(index, index < keys.Count ? keys[index].ToString() : "");
        return new ExplorerBlock(block.Height, block.Id.ToString(), block.Round, block.TimestampMs, block.Epoch,
            block.Proposer == BlockHeader.NoProposer ? null : Validator(block.Proposer), block.TransactionCount, block.BodyBytes,
            [.. block.Signers.Select(Validator)]);
    }

    /// <summary>Asks the current validator, then each other one in turn, until one answers or the request is cancelled.</summary>
    private async Task<T> Ask<T>(Func<Address, TimeSpan, Task<T>> ask, CancellationToken cancel)
    {
        Exception? last = null;
        var start = Volatile.Read(ref _current);
        var order = Enumerable.Range(0, validators.Count).Select(offset => (start + offset) % validators.Count)
            .OrderBy(index => FailedRecently(index) ? 1 : 0).ToList();
        foreach (var index in order)
        {
            cancel.ThrowIfCancellationRequested();
            try
            {
                var answer = await ask(validators[index], askTimeout).WaitAsync(cancel);
                Volatile.Write(ref _current, index);
                Volatile.Write(ref _failedAtMs[index], 0);
                return answer;
            }
            catch (Exception e) when (e is AskTimeoutException or TimeoutException or NodeRefusedException)
            {
                last = e;
                Volatile.Write(ref _failedAtMs[index], Environment.TickCount64);
            }
        }

        throw new Rpc.JsonRpc.RpcException(Rpc.JsonRpc.RpcErrorCode.Unavailable, $"no validator answered ({last?.Message})");
    }

    private bool FailedRecently(int index)
    {
        var failedAt = Volatile.Read(ref _failedAtMs[index]);
        return failedAt != 0 && Environment.TickCount64 - failedAt < FailureMemoryMs;
    }
}
