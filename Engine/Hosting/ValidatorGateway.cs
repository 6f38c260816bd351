using Akka.Actor;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Rpc.Services;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>
/// The RPC layer's way to the validators: the node protocol over Akka.Remote through a <see cref="NodeClient"/>. It
/// keeps to one validator while that one answers and moves on to the next when it does not, so a dead validator
/// costs one timeout, not every request.
/// </summary>
public sealed class ValidatorGateway(NodeClient client, IReadOnlyList<Address> validators, TimeSpan askTimeout) : INodeGateway
{
    private int _current;

    public async Task<ChainSnapshot> Chain(CancellationToken cancel)
    {
        var status = await Ask((node, timeout) => client.Status(node, timeout), cancel);
        return new ChainSnapshot(status.ChainId, status.Height, status.LastBlockId.ToString(), status.AppHash.ToString(), status.LastBlockTimestampMs,
            status.PeersConnected);
    }

    public async Task<long> LastNonce(byte[] identifier, string keyType, CancellationToken cancel) =>
        (await Ask((node, timeout) => client.Account(node, identifier, keyType, timeout), cancel)).NextNonce - 1;

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

    public async Task<IReadOnlyList<ViewCallResult>> Views(IReadOnlyList<ViewCallRequest> calls, CancellationToken cancel)
    {
        var answer = await Ask((node, timeout) => client.Views(node, [.. calls.Select(c => new Network.ViewCall(c.Caller, c.Signer, c.Authenticator, c.Payload))], 0, timeout),
            cancel);
        return [.. answer.Answers.Select(a => new ViewCallResult(a.Code, a.Error, a.Columns, a.Rows))];
    }

    /// <summary>Asks the current validator, then each other one in turn, until one answers or the request is cancelled.</summary>
    private async Task<T> Ask<T>(Func<Address, TimeSpan, Task<T>> ask, CancellationToken cancel)
    {
        Exception? last = null;
        for (var attempt = 0; attempt < validators.Count; attempt++)
        {
            cancel.ThrowIfCancellationRequested();
            var index = Volatile.Read(ref _current);
            try
            {
                return await ask(validators[index % validators.Count], askTimeout).WaitAsync(cancel);
            }
            catch (Exception e) when (e is AskTimeoutException or TimeoutException)
            {
                last = e;
                Interlocked.CompareExchange(ref _current, (index + 1) % validators.Count, index);
            }
        }

        throw new Rpc.JsonRpc.RpcException(Rpc.JsonRpc.RpcErrorCode.Unavailable, $"no validator answered ({last?.Message})");
    }
}
