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

    public Dictionary<string, long> Nonces { get; } = new(StringComparer.Ordinal);

    public List<byte[]> Submitted { get; } = [];

    public (int Code, string Log)? ExecuteOnSubmit { get; set; }

    public Task<ChainSnapshot> Chain(CancellationToken cancel) =>
        Task.FromResult(new ChainSnapshot(ChainId, 12, new string('a', 64), new string('b', 64), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 3));

    public Task<long> LastNonce(byte[] identifier, string keyType, CancellationToken cancel) =>
        Task.FromResult(Nonces.GetValueOrDefault(keyType + ":" + Convert.ToHexStringLower(identifier)));

    public Task<SubmitVerdict> Submit(byte[] transaction, CancellationToken cancel)
    {
        Submitted.Add(transaction);
        if (ExecuteOnSubmit is { } result)
        {
            _executed[Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(transaction))] = new ExecutedTransaction(13, result.Code, result.Log, transaction);
        }

        return Task.FromResult(new SubmitVerdict(SubmitStatus.Added, null));
    }

    public Task<ExecutedTransaction?> Executed(byte[] transactionHash, CancellationToken cancel) =>
        Task.FromResult(_executed.GetValueOrDefault(Convert.ToHexStringLower(transactionHash)));

    public Task<IReadOnlyList<ViewCallResult>> Views(IReadOnlyList<ViewCallRequest> calls, CancellationToken cancel) =>
        Task.FromResult<IReadOnlyList<ViewCallResult>>([.. calls.Select(c => new ViewCallResult(0, "", ["caller"], [[c.Caller]]))]);
}
